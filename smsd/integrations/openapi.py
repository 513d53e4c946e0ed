"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`.

Written by hand next to the routes; `tests/test_api.py` checks that its paths and methods are
exactly the routes the application serves.
"""

from __future__ import annotations

from typing import Any

__all__ = ["document"]

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_BUSINESS = {
    "name": "business_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
    "description": "The business (its token may name only itself).",
}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


_S = {"type": "string"}
_I = {"type": "integer"}
_T = {"type": "string", "format": "date-time"}


def _op(summary: str, ok: dict[str, Any], *, status: str = "200", **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": {
            status: {"description": "OK", "content": {"application/json": {"schema": ok}}},
            "default": _PROBLEM,
        },
        **extra,
    }


def _items(item: dict[str, Any]) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": item}})


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "maxLength": 255},
    "description": "Retries with the same key get the first response; nothing is done twice.",
}


def _business_paths() -> dict[str, Any]:
    b = "/businesses/{business_id}"
    history_item = _obj({"user_code": _S, "code": _S, "at": _T})
    return {
        b + "/history": {"get": _op(
            "Requests by user code, newest first, cursor-paged",
            _obj({"items": {"type": "array", "items": history_item},
                  "next_cursor": {"type": ["string", "null"]}}),
            parameters=[_BUSINESS,
                        _query("code", _S, "Only this code"),
                        _query("since", _T, "At or after"),
                        _query("until", _T, "Before"),
                        _query("limit", {**_I, "minimum": 1, "maximum": 500}, "Page size"),
                        _query("cursor", _S, "next_cursor of the previous page")],
        )},
        b + "/codes": {"get": _op(
            "Codes with requests and distinct requesters",
            _items(_obj({"code": _S, "paused": {"type": "boolean"}, "requests": _I,
                         "people": _I})),
            parameters=[_BUSINESS],
        )},
        b + "/stats": {"get": _op(
            "People and requests per cell; cells under min_people (>= 5) suppressed",
            _obj({"by": _S, "min_people": _I, "suppressed": _I, "total_people": _I,
                  "total_requests": _I, "cells": {"type": "array", "items": _obj(
                      {"label": _S, "people": _I, "requests": _I, "share": {"type": "number"}})}}),
            parameters=[_BUSINESS,
                        _query("by", {"enum": ["hour", "weekday", "code", "sector", "age",
                                               "gender", "country"]}, "Breakdown"),
                        _query("min_people", {**_I, "minimum": 5}, "Suppression threshold")],
        )},
        b + "/optins": {"get": _op(
            "People currently opted in and out", _obj({"in": _I, "out": _I}),
            parameters=[_BUSINESS],
        )},
        b + "/invoices": {"get": _op(
            "Invoices with their lines",
            _items(_obj({"number": _S, "month": _S, "currency": _S, "total": _S,
                         "created_at": _T, "lines": {"type": "array"}})),
            parameters=[_BUSINESS],
        )},
        b + "/broadcasts": {"post": _op(
            "Queue a broadcast to everyone opted in (write scope)",
            _obj({"broadcast_id": _I, "queued": _I, "skipped_opted_out": _I, "capped": _I,
                  "due_at": _T}),
            status="202",
            parameters=[_BUSINESS, _IDEMPOTENCY],
            requestBody=_json_body(_obj({"text": _S, "force": {"type": "boolean"}}, ["text"])),
        )},
    }  # fmt: skip


def _operator_paths() -> dict[str, Any]:
    message = _obj({"id": _I, "to": _S, "kind": _S, "state": _S, "created_at": _T,
                    "sent_at": _T, "delivered_at": _T, "attempts": _I, "parts": _I,
                    "modem": _S, "error": _S})  # fmt: skip
    return {
        "/messages": {"post": _op(
            "Send a message (operator); refused to opted-out people unless force",
            _obj({"id": _I, "state": _S}),
            status="201",
            parameters=[_IDEMPOTENCY],
            requestBody=_json_body(_obj(
                {"number": _S, "text": _S, "force": {"type": "boolean"}}, ["number", "text"])),
        )},
        "/messages/{message_id}": {"get": _op(
            "An outgoing message's state (operator)", message,
            parameters=[{"name": "message_id", "in": "path", "required": True, "schema": _I}],
        )},
        "/modems": {"get": _op(
            "Each modem's last recorded status (operator)",
            _items(_obj({"name": _S, "healthy": {"type": "boolean"}, "updated_at": _T})),
        )},
    }  # fmt: skip


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    paths: dict[str, Any] = {
        "/openapi.json": {"get": {**_op("This document", {"type": "object"}), "security": []}},
        "/me": {"get": _op("The token's scope and business",
                           _obj({"token": _obj({"id": _I, "scope": _S, "prefix": _S}),
                                 "business": {"type": ["object", "null"]}}))},
        **_business_paths(),
        **_operator_paths(),
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "smsactive API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {
                    "description": "An RFC 9457 problem document",
                    "content": {"application/problem+json": {"schema": _obj(
                        {"type": _S, "title": _S, "status": _I, "detail": _S, "instance": _S},
                        ["type", "title", "status"])}},
                }
            },
        },
    }  # fmt: skip
