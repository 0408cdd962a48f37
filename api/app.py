"""The web service: the JSON API under ``/api`` (OpenAPI at ``/api/openapi.json``) and the
Chinese UI (``api.web``), one FastAPI application.

``create_app`` wires the real adapters from the settings (the database, the object store, the
embedded worker); tests pass their own. Routes are thin: they check who is asking, call the
service, and return a schema; long work answers ``202`` with a job whose progress is stored
and pushed (server-sent events).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import cv2
import numpy as np
from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api import service, uploads
from api.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    LoginLimiter,
    Principal,
    check_csrf,
    hash_password,
    log_in,
    parse_bootstrap_users,
    resolve,
)
from api.errors import error_body, http_status
from api.overview import disposition_json, job_json, lab_summaries, report_view
from api.worker import EmbeddedWorker
from intake.errors import IntakeError, NotFoundError
from intake.pipeline import ReviewOptions, Verifier
from intake.settings import Settings
from storage import open_store
from storage.db import Database, Decision
from storage.db.models import Role
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"),
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass
class Services:
    settings: Settings
    db: Database
    store: ObjectStore
    options: ReviewOptions
    limiter: LoginLimiter
    worker: EmbeddedWorker | None = None
    staging: Path = field(default_factory=lambda: Path("var/batches"))
    # Hands a queued job to the distributed workers (None in embedded mode, where the
    # in-process worker takes it from the database).
    dispatch: Callable[[int], None] | None = None

    def queued(self, job_id: int) -> None:
        """A job was queued: wake the embedded worker, or send it to the task queue."""
        if self.dispatch is not None:
            self.dispatch(job_id)
        if self.worker is not None:
            self.worker.wake()


def review_options(settings: Settings) -> ReviewOptions:
    return ReviewOptions(
        campaign_dpi=settings.ocr.dpi, lang=settings.ocr.lang, psm=settings.ocr.page_psm,
        workers=settings.ocr.workers, timeout=settings.limits.seconds_per_page,
        max_bytes=settings.limits.max_bytes, max_pages=settings.limits.max_pages,
        max_pixels=settings.limits.max_pixels)


def ensure_bootstrap_users(db: Database, settings: Settings) -> None:
    """The accounts the settings name, created once while the database has no users."""
    spec = settings.api.bootstrap_users.get_secret_value()
    if not spec or db.users():
        return
    for name, password, role, unit in parse_bootstrap_users(spec):
        db.add_user(name, password_hash=hash_password(password), role=role,
                    display_name=name, unit=unit, actor="bootstrap")


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    store: ObjectStore | None = None,
    make_verifier: Callable[[], Verifier | None] | None = None,
    worker: bool | None = None,
) -> FastAPI:
    settings = settings or Settings()
    own_db = db is None
    database = db or Database(settings.database.url)
    objects = store or open_store(settings)
    if make_verifier is None:
        def make_verifier() -> Verifier | None:
            from intake.cli import make_verifier as from_settings

            return from_settings(settings.ocr.verify_engine)

    services = Services(settings, database, objects, review_options(settings),
                        LoginLimiter(settings.api.login_attempts,
                                     settings.api.login_window_seconds),
                        staging=settings.data_dir / "batches")
    run_worker = settings.api.embedded_worker if worker is None else worker
    if settings.mode == "distributed":
        # Jobs go to the Celery workers (`dossier worker`); no worker runs in this process.
        from api import tasks

        tasks.configure(settings)
        services.dispatch = tasks.enqueue
        run_worker = False

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(database.migrate)
        await run_in_threadpool(ensure_bootstrap_users, database, settings)
        if run_worker:
            services.worker = EmbeddedWorker(database, objects, services.options, make_verifier)
            services.worker.start()
        try:
            yield
        finally:
            if services.worker is not None:
                services.worker.stop()
            if own_db:
                database.dispose()

    app = FastAPI(title="形式审查 dossier intake", version="1", lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    app.state.services = services

    @app.exception_handler(IntakeError)
    async def intake_error(request: Request, exc: IntakeError) -> Response:
        status = http_status(exc)
        if status == 401 and _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return Response(status_code=303,
                            headers={"Location": f"/login?next={quote(target, safe='')}"})
        if _wants_html(request):
            from api.web import error_page

            return error_page(request, exc, status)
        return JSONResponse(error_body(exc), status_code=status)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(uploads.BodyLimit, limit=uploads.request_limit(settings))
    app.include_router(public_routes())
    app.include_router(api_routes(), prefix="/api")
    from api.web import web_routes

    app.include_router(web_routes())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _wants_html(request: Request) -> bool:
    return (not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", ""))


def services_of(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def principal(request: Request) -> Principal:
    """Who is asking: a bearer token, or the session cookie plus, for a change, its CSRF
    token. Every route but log-in and health depends on this."""
    svc = services_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        who = await run_in_threadpool(resolve, svc.db, header[7:].strip(), via_cookie=False)
    else:
        who = await run_in_threadpool(resolve, svc.db, request.cookies.get(SESSION_COOKIE),
                                      via_cookie=True)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        content_type = request.headers.get("content-type", "")
        if sent is None and content_type.startswith(("application/x-www-form-urlencoded",
                                                     "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        check_csrf(who, sent)
    return who


Who = Annotated[Principal, Depends(principal)]
# Ids and indexes in paths are bounded: a number no row can have is a 422, not a query.
MAX_ID = 2**31 - 1
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Index = Annotated[int, PathParam(ge=0, le=1_000_000)]
Svc = Annotated[Services, Depends(services_of)]


# Schemas ------------------------------------------------------------------------------------

class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class DecisionIn(BaseModel):
    decision: Decision
    reason: str = Field(min_length=1, max_length=2000)


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: str = Field(min_length=1, max_length=200)
    unit: str | None = Field(default=None, max_length=200)


class Assignment(BaseModel):
    file: str
    lab_id: str | None  # None: leave the file out


class BatchConfirmIn(BaseModel):
    assignments: list[Assignment]
    precheck: bool = False


def user_json(who: Principal) -> dict[str, Any]:
    u = who.user
    return {"username": u.username, "display_name": u.display_name, "role": u.role.value,
            "unit": u.unit}


# Routes without a log-in ----------------------------------------------------------------

def public_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/health")
    def health(svc: Svc) -> dict[str, Any]:
        """Whether the service can work: database schema, object store, OCR engine, worker."""
        from intake.ocr import tesseract

        status: dict[str, Any] = {"status": "ok"}
        for name, check in (("database", svc.db.check_schema),
                            ("store", lambda: svc.store.probe().location),
                            ("tesseract", lambda: tesseract.probe().version)):
            try:
                status[name] = check()
            except IntakeError as exc:
                status[name] = f"error: {exc}"
                status["status"] = "degraded"
        if svc.settings.mode == "distributed":
            from api.tasks import broker_probe

            try:
                status["broker"] = broker_probe(svc.settings)
            except IntakeError as exc:
                status["broker"] = f"error: {exc}"
                status["status"] = "degraded"
            status["worker"] = "distributed (dossier worker)"
        else:
            status["worker"] = ("embedded" if svc.worker and svc.worker.alive
                                else "none in this process")
        return status

    @router.post("/api/login")
    def login(body: LoginIn, request: Request, svc: Svc) -> JSONResponse:
        """Log in; the answer carries a bearer token and sets the session cookie."""
        session = log_in(svc.db, svc.limiter, body.username, body.password,
                         client=request.client.host if request.client else "unknown",
                         hours=svc.settings.api.session_hours)
        response = JSONResponse({"token": session.token, "csrf_token": session.csrf_token,
                                 "expires_at": session.expires_at.isoformat(timespec="seconds"),
                                 "user": {"username": session.user.username,
                                          "display_name": session.user.display_name,
                                          "role": session.user.role.value,
                                          "unit": session.user.unit}})
        set_session_cookie(response, session.token, svc.settings)
        return response

    return router


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=settings.api.secure_cookies,
                        max_age=int(settings.api.session_hours * 3600), path="/")


# The API ------------------------------------------------------------------------------------

def api_routes() -> APIRouter:
    router = APIRouter()
    for part in (session_routes, user_routes, campaign_routes, dossier_routes, job_routes,
                 report_routes, report_file_routes, decision_routes):
        router.include_router(part())
    return router


def session_routes() -> APIRouter:
    router = APIRouter()

    @router.post("/logout")
    def logout(who: Who, svc: Svc) -> JSONResponse:
        svc.db.revoke_session(who.token_sha256)
        svc.db.audit(actor=who.actor, action="logout", subject=f"user:{who.user.username}")
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/me")
    def me(who: Who) -> dict[str, Any]:
        return {**user_json(who), "csrf_token": who.csrf_token}

    return router


def user_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/users")
    def users(who: Who, svc: Svc) -> list[dict[str, Any]]:
        who.require(Role.SECRETARIAT)
        return [{"username": u.username, "display_name": u.display_name, "role": u.role.value,
                 "unit": u.unit, "active": u.active} for u in svc.db.users()]

    @router.post("/users", status_code=201)
    def add_user(body: UserIn, who: Who, svc: Svc) -> dict[str, Any]:
        who.require(Role.SECRETARIAT)
        user = svc.db.add_user(body.username, password_hash=hash_password(body.password),
                               role=body.role, display_name=body.display_name, unit=body.unit,
                               actor=who.actor)
        return {"username": user.username, "role": user.role.value, "unit": user.unit}

    return router


def campaign_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/campaigns")
    def campaigns(who: Who, svc: Svc) -> list[dict[str, Any]]:
        return [{"code": code, "name": name} for code, name in svc.db.campaigns()]

    @router.post("/campaigns/{campaign}/records")
    def import_records(campaign: str, who: Who, svc: Svc,
                       file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        """Import the online records (JSON, CSV or XLSX): all rows or none, each bad row named."""
        from intake.records_io import parse_records

        who.require(Role.SECRETARIAT)
        name = uploads.safe_name(file.filename)
        data = uploads.read_limited(file, name, svc.settings.limits.max_bytes)
        try:
            records = parse_records(data, name, campaign)
            result = svc.db.import_records(campaign, records, actor=who.actor, source=name)
        except IntakeError as exc:
            svc.db.audit(actor=who.actor, action="records.refused", subject=f"campaign:{campaign}",
                         detail={"code": exc.code, "error": str(exc), "file": name})
            raise
        return {"campaign": result.campaign, "records": result.records,
                "labs_created": result.labs_created, "versions_added": result.versions_added,
                "unchanged": result.unchanged}

    @router.get("/campaigns/{campaign}/labs")
    def labs(campaign: str, who: Who, svc: Svc, q: str = "", stage: str = "",
             verdict: str = "") -> list[dict[str, Any]]:
        """The campaign's labs with their workflow stage, verdict and open findings; a
        recommending unit sees its own labs only."""
        rows = lab_summaries(svc.db, campaign, unit=who.unit_scope)
        return [s.as_json() for s in filter_labs(rows, q=q, stage=stage, verdict=verdict)]

    @router.get("/campaigns/{campaign}/labs/{lab_id}")
    def lab(campaign: str, lab_id: str, who: Who, svc: Svc) -> dict[str, Any]:
        found = svc.db.lab(campaign, lab_id)
        who.check_lab(found)
        dossiers = svc.db.dossiers(campaign, lab_id=lab_id)
        reports = svc.db.latest_reports([d.id for d in dossiers])
        jobs = svc.db.jobs(dossier_ids=[d.id for d in dossiers])
        record = svc.db.latest_record(campaign, lab_id)
        return {
            "lab_id": found.lab_id, "name": found.name,
            "recommending_unit": found.recommending_unit, "association": found.association,
            "record_version": record.version,
            "dossiers": [{
                "id": d.id, "precheck": d.precheck, "created_by": d.created_by,
                "created_at": d.created_at.isoformat(timespec="seconds"),
                "documents": [{"id": i, "name": n, "sha256": s, "pages": p}
                              for i, n, s, p in d.documents],
                "online": ({"id": d.online[0], "name": d.online[1], "sha256": d.online[2],
                            "pages": d.online[3]} if d.online else None),
                "report_id": reports[d.id].id if d.id in reports else None,
                "verdict": reports[d.id].verdict if d.id in reports else None,
                "jobs": [job_json(j) for j in jobs if j.dossier_id == d.id],
            } for d in dossiers],
        }

    @router.get("/campaigns/{campaign}/findings.xlsx")
    def findings_xlsx(campaign: str, who: Who, svc: Svc) -> Response:
        """Every lab of the campaign (that the asker may see), one row per finding."""
        from intake.exports import LabReport, campaign_xlsx

        rows = []
        summaries = lab_summaries(svc.db, campaign, unit=who.unit_scope)
        for s in summaries:
            data, decisions = None, {}
            if s.report_id is not None:
                view = report_view(svc.db, s.report_id)
                data = view.report.data
                decisions = decisions_of(view)
            rows.append(LabReport(s.lab.lab_id, s.lab.name, s.lab.recommending_unit, data,
                                  decisions))
        body = campaign_xlsx(rows)
        svc.db.audit(actor=who.actor, action="export.xlsx", subject=f"campaign:{campaign}",
                     detail={"labs": len(rows)})
        return Response(body, media_type=uploads.XLSX_TYPE, headers=uploads.attachment(
            f"形式审查问题清单-{campaign}.xlsx"))

    return router


def dossier_routes() -> APIRouter:
    router = APIRouter()

    @router.post("/campaigns/{campaign}/labs/{lab_id}/dossiers", status_code=202)
    def upload(campaign: str, lab_id: str, who: Who, svc: Svc,
               files: Annotated[list[UploadFile], File(description="the dossier's scans")],
               precheck: Annotated[bool, Form()] = False,
               online: Annotated[UploadFile | None, File(
                   description="the online system's own PDF of the form (optional): the "
                               "paper is compared with it page by page")] = None,
               ) -> JSONResponse:
        """Upload one lab's dossier; it is checked and kept now and reviewed in the
        background (202 and a job). A recommending unit's upload is always a precheck."""
        who.require(Role.SECRETARIAT, Role.UNIT)
        found = svc.db.lab(campaign, lab_id)
        who.check_lab(found)
        if who.role == Role.UNIT:
            precheck = True
        with uploads.saved(files, svc.settings) as paths, \
                uploads.saved_one(online, svc.settings) as printout:
            received = receive_logged(svc, who, paths, campaign, lab_id, precheck, printout)
        svc.queued(received.job_id)
        return JSONResponse(status_code=202, headers={"Location": f"/api/jobs/{received.job_id}"},
                            content={"dossier_id": received.dossier_id, "job_id": received.job_id,
                                     "precheck": precheck,
                                     "documents": [{"name": d.name, "pages": d.page_count,
                                                    "sha256": d.sha256}
                                                   for d in received.documents]})

    @router.post("/campaigns/{campaign}/batches", status_code=201)
    def batch(campaign: str, who: Who, svc: Svc,
              files: Annotated[list[UploadFile], File(description="scans, or zips of them")],
              ) -> dict[str, Any]:
        """Upload many labs' files at once (or a zip); the answer proposes a lab for each
        file from its name and its first page, to confirm or correct."""
        who.require(Role.SECRETARIAT)
        labs_ = svc.db.labs(campaign)
        if not labs_:
            raise NotFoundError(f"campaign {campaign} has no labs; import its records first",
                                subject=campaign)
        try:
            return uploads.stage_batch(files, campaign, labs_, svc.settings, svc.staging,
                                       actor=who.actor, options=svc.options)
        except IntakeError as exc:
            svc.db.audit(actor=who.actor, action="batch.refused", subject=f"campaign:{campaign}",
                         detail={"code": exc.code, "error": str(exc),
                                 "files": [uploads.safe_name(f.filename) for f in files]})
            raise

    @router.post("/batches/{batch_id}", status_code=202)
    def confirm_batch(batch_id: str, body: BatchConfirmIn, who: Who, svc: Svc) -> dict[str, Any]:
        """Confirm (or correct) the batch's file-to-lab mapping: one dossier and one job per
        lab; files mapped to no lab are left out."""
        who.require(Role.SECRETARIAT)
        staged = uploads.load_batch(svc.staging, batch_id)
        groups = uploads.group_assignments(staged, [(a.file, a.lab_id) for a in body.assignments])
        for lab_id in groups:
            svc.db.lab(staged["campaign"], lab_id)
        jobs = []
        for lab_id, paths in groups.items():
            received = receive_logged(svc, who, paths, staged["campaign"], lab_id, body.precheck)
            jobs.append({"lab_id": lab_id, "dossier_id": received.dossier_id,
                         "job_id": received.job_id, "files": [p.name for p in paths]})
            svc.queued(received.job_id)
        uploads.drop_batch(svc.staging, batch_id)
        return {"batch_id": batch_id, "jobs": jobs}

    @router.get("/dossiers/{dossier_id}/documents/{document_id}")
    def original(dossier_id: Id, document_id: Id, who: Who, svc: Svc) -> Response:
        """An original as received, byte for byte."""
        dossier = svc.db.dossier(dossier_id)
        who.check_lab(dossier.lab)
        match = [d for d in (*dossier.documents, *filter(None, [dossier.online]))
                 if d[0] == document_id]
        if not match:
            raise NotFoundError(f"dossier {dossier_id} has no document {document_id}")
        key = svc.db.document_key(document_id)
        data = svc.store.get_bytes(key)
        svc.db.audit(actor=who.actor, action="original.download", subject=f"dossier:{dossier_id}",
                     detail={"document_id": document_id})
        return Response(data, media_type="application/octet-stream",
                        headers=uploads.attachment(match[0][1]))

    return router


def job_routes() -> APIRouter:
    router = APIRouter()

    def job_for(who: Principal, svc: Services, job_id: int) -> dict[str, Any]:
        job = svc.db.job(job_id)
        if job.dossier_id is None:
            who.require(Role.SECRETARIAT)
        else:
            who.check_lab(svc.db.dossier(job.dossier_id).lab)
        out = job_json(job)
        out["report_id"] = svc.db.report_of_job(job_id) if job.finished else None
        return out

    @router.get("/jobs/{job_id}")
    def job(job_id: Id, who: Who, svc: Svc) -> dict[str, Any]:
        return job_for(who, svc, job_id)

    @router.get("/jobs/{job_id}/events")
    async def job_events(job_id: Id, request: Request, who: Who, svc: Svc) -> StreamingResponse:
        """The job's progress as server-sent events (``progress`` on each change, ``end`` when
        it has finished); a browser that reloads starts again from the stored state."""
        first = await run_in_threadpool(job_for, who, svc, job_id)

        async def events() -> AsyncIterator[str]:
            last, quiet, state = None, 0.0, first
            while True:
                if state != last:
                    yield f"event: progress\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
                    last, quiet = state, 0.0
                elif quiet >= 15:
                    yield ": keep-alive\n\n"
                    quiet = 0.0
                if state["state"] in ("done", "failed", "cancelled"):
                    yield f"event: end\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.5)
                quiet += 0.5
                state = await run_in_threadpool(job_for, who, svc, job_id)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @router.get("/jobs")
    def jobs(who: Who, svc: Svc, state: str = "") -> list[dict[str, Any]]:
        who.require(Role.SECRETARIAT)
        return [job_json(j) for j in svc.db.jobs(states=[state] if state else None)]

    return router


def report_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/reports/{report_id}")
    def report(report_id: Id, who: Who, svc: Svc) -> dict[str, Any]:
        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        return view.as_json()

    @router.get("/reports/{report_id}/html", response_class=HTMLResponse)
    def report_html(report_id: Id, who: Who, svc: Svc) -> HTMLResponse:
        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        return HTMLResponse(service.render_stored_report(report_id, db=svc.db, store=svc.store))

    return router


def report_file_routes() -> APIRouter:
    """A report as files: PDF, the feedback notice, page images, evidence crops."""
    router = APIRouter()

    @router.get("/reports/{report_id}/pdf")
    def report_pdf(report_id: Id, who: Who, svc: Svc) -> Response:
        from intake.exports import report_pdf as make_pdf

        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        with service.kept_page_images(view.report.data, svc.store) as images:
            body = make_pdf(view.report.data, images, decisions_of(view))
        return Response(body, media_type="application/pdf", headers=uploads.attachment(
            f"形式审查报告-{view.dossier.lab.lab_id}-v{view.report.version}.pdf"))

    @router.get("/reports/{report_id}/notice", response_class=HTMLResponse)
    def notice(report_id: Id, who: Who, svc: Svc) -> HTMLResponse:
        """The feedback notice (形式审查意见反馈) to send to the lab."""
        from intake.exports import feedback_notice

        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        return HTMLResponse(feedback_notice(view.report.data, decisions_of(view)))

    @router.get("/reports/{report_id}/notice.pdf")
    def notice_pdf(report_id: Id, who: Who, svc: Svc) -> Response:
        from intake.exports import feedback_notice_pdf

        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        return Response(feedback_notice_pdf(view.report.data, decisions_of(view)),
                        media_type="application/pdf", headers=uploads.attachment(
                            f"形式审查意见反馈-{view.dossier.lab.lab_id}.pdf"))

    @router.get("/reports/{report_id}/pages/{document}/{number}.jpg")
    def page(report_id: Id, document: Index, number: Index, who: Who, svc: Svc,
             boxes: bool = False) -> Response:
        """A page as reviewed; with ``boxes=true`` the seals and findings drawn on it.
        ``document`` is the index of the file in the report's documents."""
        from intake.exports import annotate_page

        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        name, page_data = page_of(view.report.data, document, number)
        with tempfile.TemporaryDirectory(prefix="dossier-page-") as tmp:
            path = service.page_image(report_id, name, number, db=svc.db, store=svc.store,
                                      target=Path(tmp) / "page.jpg")
            if not boxes:
                return Response(path.read_bytes(), media_type="image/jpeg",
                                headers={"Cache-Control": "private, max-age=300"})
            image = read_image(path)
        # annotate_page picks this page's findings and numbers each box by its place in the
        # report, so it is given all of them.
        findings = view.report.data.get("findings", [])
        return Response(annotate_page(image, page_data, findings), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=300"})

    @router.get("/reports/{report_id}/findings/{index}/crop.jpg")
    def crop(report_id: Id, index: Index, who: Who, svc: Svc) -> Response:
        """The evidence: the region of the page the finding is about, its box drawn in."""
        from intake.model import Box
        from intake.report import evidence_crop

        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        finding = finding_of(view.report.data, index)
        where = finding.get("location") or {}
        if not where.get("document") or not where.get("page"):
            raise NotFoundError(f"finding {index} is not about a page")
        documents = [d["name"] for d in view.report.data.get("documents", [])]
        _, page_data = page_of(view.report.data, documents.index(where["document"]),
                               where["page"])
        with tempfile.TemporaryDirectory(prefix="dossier-crop-") as tmp:
            path = service.page_image(report_id, where["document"], where["page"], db=svc.db,
                                      store=svc.store, target=Path(tmp) / "page.jpg")
            image = read_image(path)
        box = where.get("box")
        scale = image.shape[1] / max(1, page_data.get("width") or image.shape[1])
        scaled = Box(*(round(v * scale) for v in box)) if box else None
        dpi = round((page_data.get("dpi") or 200) * scale)
        return Response(evidence_crop(np.ascontiguousarray(image), scaled, dpi),
                        media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})

    return router


def decision_routes() -> APIRouter:
    router = APIRouter()

    @router.post("/reports/{report_id}/findings/{index}/decision", status_code=201)
    def decide(report_id: Id, index: Index, body: DecisionIn, who: Who, svc: Svc,
               ) -> dict[str, Any]:
        """A reviewer confirms or dismisses a finding, with a reason; earlier decisions stay
        in the finding's history."""
        who.require(Role.REVIEWER, Role.SECRETARIAT)
        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        finding = finding_of(view.report.data, index)
        made = svc.db.record_disposition(report_id, decision=body.decision, reason=body.reason,
                                         reviewer=who.actor, finding_index=index,
                                         rule=finding.get("rule"), field=finding.get("field"))
        return disposition_json(made)

    @router.get("/reports/{report_id}/audit")
    def report_audit(report_id: Id, who: Who, svc: Svc) -> list[dict[str, Any]]:
        """The report's audit trail: who made it and every decision on its findings."""
        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        entries = svc.db.audit_entries(f"report:{report_id}")
        entries += [e for e in svc.db.audit_entries(f"dossier:{view.dossier.id}")
                    if e.detail.get("report_id") == report_id]
        entries.sort(key=lambda e: e.id)
        return [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor,
                 "action": e.action, "detail": e.detail} for e in entries]

    @router.get("/audit")
    def audit(who: Who, svc: Svc, subject: str | None = None) -> list[dict[str, Any]]:
        """The audit log (read only: no route changes it)."""
        who.require(Role.SECRETARIAT)
        return [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor,
                 "action": e.action, "subject": e.subject, "detail": e.detail}
                for e in svc.db.audit_entries(subject)[-1000:]]

    return router


def receive_logged(svc: Services, who: Principal, paths: list[Path], campaign: str, lab_id: str,
                   precheck: bool, online: Path | None = None) -> service.Received:
    """Receive files; a refusal is audited with what was refused and why (never the bytes)."""
    try:
        return service.receive(paths, campaign=campaign, lab_id=lab_id, db=svc.db,
                               store=svc.store, options=svc.options, actor=who.actor,
                               precheck=precheck, online=online)
    except IntakeError as exc:
        svc.db.audit(actor=who.actor, action="upload.refused", subject=f"lab:{campaign}/{lab_id}",
                     detail={"code": exc.code, "error": str(exc),
                             "files": [p.name for p in paths]
                             + ([online.name] if online is not None else [])})
        raise


def filter_labs(rows: list[Any], *, q: str, stage: str, verdict: str) -> list[Any]:
    needle = q.strip().lower()
    return [s for s in rows
            if (not needle or needle in s.lab.lab_id.lower() or needle in s.lab.name.lower()
                or needle in s.lab.recommending_unit.lower())
            and (not stage or s.stage == stage)
            and (not verdict or s.verdict == verdict)]


def decisions_of(view: Any) -> dict[int, Any]:
    from intake.exports import FindingDecision

    return {i: FindingDecision(d.decision, d.reason, d.reviewer,
                               d.created_at.isoformat(timespec="seconds"))
            for i, d in view.decisions.items()}


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise NotFoundError("the kept page image cannot be read", subject=path.name)
    return np.asarray(image)


def finding_of(data: dict[str, Any], index: int) -> dict[str, Any]:
    findings = data.get("findings", [])
    if not 0 <= index < len(findings):
        raise NotFoundError(f"the report has no finding {index} ({len(findings)} findings)")
    finding: dict[str, Any] = findings[index]
    return finding


def page_of(data: dict[str, Any], document: int, number: int) -> tuple[str, dict[str, Any]]:
    documents = data.get("documents", [])
    if not 0 <= document < len(documents):
        raise NotFoundError(f"the report has no document {document}")
    name = documents[document]["name"]
    for p in data.get("pages", []):
        if p["document"] == name and p["page"] == number:
            return name, p
    raise NotFoundError(f"{name} has no page {number}")



