from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status
from starlette.concurrency import run_in_threadpool

from services.api.auth.deps import CurrentUser, bearer_token
from services.api.db import SessionDep
from services.api.devices import service
from services.api.devices.errors import InvalidDeviceToken
from services.api.devices.models import Device
from services.api.devices.schemas import (DeviceCreate, DeviceCreated, DeviceRead, InboxAssign, InboxItem,
                                          RecordingCreate, RecordingFiled, ScheduleRead, SlotRead)
from services.api.pagination import Page, PageDep, fetch_page
from services.api.routing import api_router
from services.api.taxonomy.router import document_body

router = api_router(tags=["recording classrooms"])


def current_device(request: Request, session: SessionDep) -> Device:
    token = bearer_token(request)
    if not token.startswith(service.DEVICE_TOKEN_PREFIX):
        raise InvalidDeviceToken()
    return service.authenticate_device(session, token=token)


CurrentDevice = Annotated[Device, Depends(current_device)]


@router.post("/devices", response_model=DeviceCreated, status_code=status.HTTP_201_CREATED)
def register_device(session: SessionDep, caller: CurrentUser, body: DeviceCreate) -> DeviceCreated:
    """Registers a classroom's recorder; the token in the reply is shown this once."""
    device, token = service.register_device(session, actor=caller, school_id=body.school_id or caller.school_id or "",
                                            classroom=body.classroom, name=body.name)
    session.commit()
    return DeviceCreated(**DeviceRead.model_validate(device).model_dump(), token=token)


@router.get("/devices", response_model=Page[DeviceRead])
def list_devices(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[DeviceRead]:
    total, devices = fetch_page(session, service.devices_query(actor=caller), paging)
    return Page(total=total, page=paging.page, size=paging.size, items=[DeviceRead.model_validate(d) for d in devices])


@router.post("/devices/{device_id}/revoke", response_model=DeviceRead)
def revoke_device(session: SessionDep, caller: CurrentUser, device_id: str) -> DeviceRead:
    device = service.revoke_device(session, actor=caller, device_id=device_id)
    session.commit()
    return DeviceRead.model_validate(device)


@router.put("/devices/{device_id}/schedule", response_model=ScheduleRead)
async def put_schedule(request: Request, session: SessionDep, caller: CurrentUser, device_id: str) -> ScheduleRead:
    """The classroom's timetable, replaced whole: JSON `{"slots": [...]}` or `text/calendar`.

    Who may change the device is checked before the body is read: parsing a calendar and
    expanding its rules costs CPU, which only the people who manage the device may spend."""
    def check() -> None:
        service.get_managed_device(session, actor=caller, device_id=device_id)
        session.rollback()  # no transaction held while the body arrives

    def replace(raw: bytes) -> ScheduleRead:
        slots = service.parse_schedule(raw, media_type=request.headers.get("content-type", "application/json"))
        service.replace_schedule(session, actor=caller, device_id=device_id, slots=slots)
        session.commit()
        return _schedule(session, caller, device_id)

    await run_in_threadpool(check)
    return await run_in_threadpool(replace, await document_body(request))


@router.get("/devices/{device_id}/schedule", response_model=ScheduleRead)
def get_schedule(session: SessionDep, caller: CurrentUser, device_id: str) -> ScheduleRead:
    return _schedule(session, caller, device_id)


def _schedule(session: SessionDep, caller: CurrentUser, device_id: str) -> ScheduleRead:
    slots = service.device_schedule(session, actor=caller, device_id=device_id)
    return ScheduleRead(device_id=device_id, slots=[
        SlotRead(teacher_id=s.teacher_id, subject=s.subject_code, grade=s.grade_code, class_name=s.class_name,
                 start=s.starts_at, end=s.ends_at) for s in slots])


@router.post("/recordings", response_model=RecordingFiled, status_code=status.HTTP_201_CREATED)
def post_recording(session: SessionDep, device: CurrentDevice, body: RecordingCreate) -> RecordingFiled:
    filed = service.file_recording(session, device=device, started_at=body.started_at, ended_at=body.ended_at,
                                   tracks=body.tracks)
    session.commit()
    if filed.resource is not None:
        return RecordingFiled(outcome="resource", resource_id=filed.resource.id)
    assert filed.inbox is not None
    return RecordingFiled(outcome="inbox", inbox_id=filed.inbox.id)


@router.get("/recordings/inbox", response_model=Page[InboxItem])
def recordings_inbox(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[InboxItem]:
    total, items = fetch_page(session, service.inbox_query(actor=caller), paging)
    return Page(total=total, page=paging.page, size=paging.size, items=[
        InboxItem(id=i.id, device_id=i.device_id, started_at=i.started_at, ended_at=i.ended_at, tracks=i.tracks)
        for i in items])


@router.post("/recordings/inbox/{inbox_id}/assign", response_model=RecordingFiled)
def assign_recording(session: SessionDep, caller: CurrentUser, inbox_id: str, body: InboxAssign) -> RecordingFiled:
    resource = service.assign_inbox_item(session, actor=caller, inbox_id=inbox_id, teacher_id=body.teacher_id,
                                         subject=body.subject, grade=body.grade, class_name=body.class_name)
    session.commit()
    return RecordingFiled(outcome="resource", resource_id=resource.id)
