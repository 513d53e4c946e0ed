"""Recovery: seconds from the modem being back to the reply sent.

Three ways a modem goes away and comes back while a handset's text is on its way, each
through the real daemon subprocess on the real pty (the simulator runs in this process):

* **unplug/replug**: the pty vanishes for 3 s and comes back at the same link (USB
  re-enumeration); "back" is the moment the new pty exists and the modem has booted.
* **in-band reboot**: the port stays open, the modem is silent for 3 s and then prints its
  boot lines (Huawei ``^SYSSTART``, SIMCom ``RDY``/``SMS Ready``, Quectel ``+QIND: SMS DONE``,
  Telit ``+CPIN: READY``) having forgotten echo, CNMI and memories; "back" is its boot lines.
* **two temporary errors**: the first two sends of the reply get ``+CMS ERROR: 500``; "back"
  is the first error (the network was there all along).

The text is delivered while the modem is away (it waits on the SIM, no URC reaches the
daemon). "Reply sent" is the simulated network accepting the reply. Medians over the runs.

Targets (issue 13): <= 5 s after an unplug or a reboot, <= 10 s for two temporary errors.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import Report, daemon_running, handset, median, parse_args, scratch_dir
from modem.sim import SimModem
from smsd.testing import make_db, texts_to, wait_until

__all__ = ["main", "measure"]

AWAY_S = 3.0
REBOOT_DIALECTS = ("huawei", "simcom", "quectel", "telit")


def _replied(sim: SimModem, number: str) -> bool:
    return any(t.startswith("Pizza") for t in texts_to(sim, number))


def _runs(profile: str, runs: int, tmp: Path, one: Callable[[SimModem, str], float]) -> list[float]:
    """``runs`` recoveries on one daemon; each with a new (known) handset."""
    db = tmp / f"{profile}-{one.__name__}.db"
    senders = [handset(i + 1) for i in range(runs)]
    make_db(db, known_people=senders)
    link = str(tmp / f"{profile}-{one.__name__}")
    seconds: list[float] = []
    with SimModem(profile, noise=False, link=link) as sim:
        workdir = tmp / f"run-{profile}-{one.__name__}"
        workdir.mkdir()
        with daemon_running(workdir, db, [link]):
            for sender in senders:
                seconds.append(one(sim, sender))
    return seconds


def _sent_after(sim: SimModem, sender: str, since: float) -> float:
    wait_until(lambda: _replied(sim, sender), 60, "the reply", poll=0.005)
    return time.perf_counter() - since


def unplug(sim: SimModem, sender: str) -> float:
    """Unplugged for AWAY_S, the text arrives meanwhile, replugged."""
    sim.fault("unplug")
    sim.deliver(sender, "PIZZA")
    time.sleep(AWAY_S)  # the modem is away this long (a scenario, not a synchronisation)
    sim.fault("replug")
    sim.wait_booted(10)
    return _sent_after(sim, sender, time.perf_counter())


def reboot(sim: SimModem, sender: str) -> float:
    """Silent for AWAY_S, the text arrives meanwhile, then the boot lines."""
    sim.fault("reboot", seconds=AWAY_S)
    sim.deliver(sender, "PIZZA")
    sim.wait_booted(AWAY_S + 10)
    return _sent_after(sim, sender, time.perf_counter())


def temporary(sim: SimModem, sender: str) -> float:
    """The reply's first two sends fail with +CMS ERROR: 500."""
    errors = sim.stats["cms_errors"]
    sim.fault("cms_error", code=500, count=2)
    sim.deliver(sender, "PIZZA")
    wait_until(lambda: sim.stats["cms_errors"] > errors, 30, "the first error", poll=0.005)
    return _sent_after(sim, sender, time.perf_counter())


def measure(runs: int) -> Report:
    """Every scenario ``runs`` times; the report with medians and maxima."""
    report = Report("recovery", quick=runs < 5)
    with scratch_dir("recovery") as tmp:
        unplugged = _runs("generic", runs, tmp, unplug)
        rebooted = {p: _runs(p, runs, tmp, reboot) for p in REBOOT_DIALECTS}
        errored = _runs("simcom", runs, tmp, temporary)
    every_reboot = [s for values in rebooted.values() for s in values]
    report.figures.update(
        runs=runs,
        away_s=AWAY_S,
        unplug_s=[round(s, 2) for s in unplugged],
        reboot_s={p: [round(s, 2) for s in v] for p, v in rebooted.items()},
        temporary_errors_s=[round(s, 2) for s in errored],
        reboot_median_per_dialect={p: round(median(v), 2) for p, v in rebooted.items()},
    )
    report.check("unplug/replug -> reply, median", round(median(unplugged), 2), "<=", 5, "s")
    report.check("unplug/replug -> reply, max", round(max(unplugged), 2), "<=", 5, "s")
    report.check("in-band reboot -> reply, median", round(median(every_reboot), 2), "<=", 5, "s")
    report.check("in-band reboot -> reply, max", round(max(every_reboot), 2), "<=", 5, "s")
    report.check("two +CMS 500 -> reply, median", round(median(errored), 2), "<=", 10, "s")
    report.check("two +CMS 500 -> reply, max", round(max(errored), 2), "<=", 10, "s")
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.recovery [--quick]``."""
    args = parse_args(argv, __doc__ or "")
    print("recovery: modem back -> reply sent")
    measure(2 if args.quick else 5).save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
