"""Operator actions behind the admin key (PLANQA_ADMIN_KEYS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from . import deps, lifecycle

router = APIRouter(prefix="/api/admin", dependencies=[Depends(deps.require_admin_key)])


@router.post("/reload")
async def reload_index(request: Request) -> dict[str, Any]:
    """Loads the generation index/CURRENT names (after `planqa index`) and swaps it in.

    Only the worker process that answers is reloaded at once; the others follow within
    PLANQA_RELOAD_INTERVAL seconds by polling the same pointer.
    """
    return await run_in_threadpool(lifecycle.reload, request.app)
