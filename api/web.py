"""The Chinese UI: server-rendered pages over the same service as the API.

Every page needs a log-in (a browser without one is sent to ``/login``) and shows only what the
user's role may see: a recommending unit opening another unit's lab or report gets the same
"not found" page as for one that does not exist. Pages read the database directly; the little
JavaScript in ``static/app.js`` uploads through the JSON API and follows jobs' progress.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.auth import (
    CSRF_FIELD,
    ROLE_ZH,
    SESSION_COOKIE,
    Principal,
    log_in,
    resolve,
)
from api.errors import MESSAGE_ZH, http_status
from api.overview import DECISION_ZH, STAGE_ZH, VERDICT_ZH, job_json, lab_summaries, report_view
from intake.errors import (
    AuthenticationError,
    InputError,
    IntakeError,
    NotFoundError,
    RateLimitedError,
)
from storage.db import Decision
from storage.db.models import Role
from storage.db.repository import Disposition, JobStatus

HERE = Path(__file__).resolve().parent
STATUS_ZH = {"fail": "不符合", "uncertain": "待确认", "pass": "符合"}
PAGE_KIND_ZH = {"form": "申报信息表", "approval": "审批情况", "letter": "协会确认函",
                "certificate": "证书", "attachment": "附件", "blank": "空白页", "unknown": "其他"}
BEIJING = timezone(timedelta(hours=8), "北京时间")  # the lab review runs on Beijing time
# Ids and indexes in addresses are bounded, as in the API: a number no row can have is a bad
# address, not a query.
Id = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
Index = Annotated[int, PathParam(ge=0, le=1_000_000)]

_env = Environment(loader=FileSystemLoader(HERE / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _static_version() -> str:
    """A digest of the static files, so a browser fetches them again after they change."""
    digest = hashlib.sha256()
    for path in sorted((HERE / "static").glob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _when(at: datetime | str | None) -> str:
    if at is None:
        return ""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:  # SQLite gives back naive UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


_env.globals.update(STAGE_ZH=STAGE_ZH, VERDICT_ZH=VERDICT_ZH, DECISION_ZH=DECISION_ZH,
                    STATUS_ZH=STATUS_ZH, ROLE_ZH=ROLE_ZH, PAGE_KIND_ZH=PAGE_KIND_ZH,
                    static_version=_static_version())
_env.filters["when"] = _when


def render(request: Request, template: str, *, who: Principal | None = None,
           status: int = 200, **context: Any) -> HTMLResponse:
    body = _env.get_template(template).render(request=request, who=who, **context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def error_page(request: Request, exc: IntakeError, status: int) -> HTMLResponse:
    zh = MESSAGE_ZH.get(exc.code, MESSAGE_ZH["intake_error"])
    # "Not found" says nothing more: a unit must not learn which lab a report id belongs to.
    message = "" if status == 404 else str(exc)
    return render(request, "error.html", status=status, title=zh, message=message,
                  code=exc.code, http_status=status)


class WebRoute(APIRoute):
    """A page route: an error becomes the Chinese error page, a missing log-in a redirect to
    the log-in page, whatever the browser said it accepts."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationError:
                return RedirectResponse(login_url(request), status_code=303)
            except IntakeError as exc:
                return error_page(request, exc, http_status(exc))
            except RequestValidationError as exc:
                where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
                return error_page(request, InputError(f"not a valid address ({where})"), 400)

        return page


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or target == "/":
        return "/login"
    return f"/login?{urlencode({'next': target})}"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (``//evil``, ``/\\evil``, ``https:``)."""
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or any(c in target for c in "\r\n")):
        return "/"
    return target


def services_of(request: Request) -> Any:
    from api.app import services_of as of

    return of(request)


async def who_is(request: Request) -> Principal:
    from api.app import principal

    return await principal(request)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# What the pages show ---------------------------------------------------------------------------

def diff_segments(expected: str | None, found: str | None) -> tuple[list[tuple[str, bool]],
                                                                        list[tuple[str, bool]]]:
    """Both values cut into (text, differs) runs, so the page can mark what differs."""
    a, b = expected or "", found or ""
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if a[i1:i2]:
            left.append((a[i1:i2], op != "equal"))
        if b[j1:j2]:
            right.append((b[j1:j2], op != "equal"))
    return left, right


def display_names(svc: Any) -> dict[str, str]:
    return {f"user:{u.username}": u.display_name for u in svc.db.users()}


def actor_name(actor: str, names: dict[str, str]) -> str:
    if actor == "worker":
        return "系统自动审查"
    return names.get(actor) or actor.removeprefix("user:")


def finding_views(report_id: int, data: dict[str, Any], decisions: dict[int, Disposition],
                  history: list[Disposition], names: dict[str, str]) -> list[dict[str, Any]]:
    documents = [d["name"] for d in data.get("documents", [])]
    out = []
    for index, finding in enumerate(data.get("findings", [])):
        where = finding.get("location") or {}
        page = None
        if where.get("document") in documents and where.get("page"):
            page = {"doc": documents.index(where["document"]), "page": where["page"],
                    "document": where["document"]}
        expected, found = finding.get("expected"), finding.get("found")
        left, right = diff_segments(expected, found) if expected or found else ([], [])
        decision = decisions.get(index)
        out.append({
            "index": index, "f": finding, "status": finding.get("status", "uncertain"),
            "page": page, "left": left, "right": right,
            "crop": f"/api/reports/{report_id}/findings/{index}/crop.jpg" if page else None,
            "decision": decision,
            "decided_by": actor_name(decision.reviewer, names) if decision else "",
            "history": [{"d": d, "by": actor_name(d.reviewer, names)}
                        for d in history if d.finding_index == index],
        })
    return out


def page_views(report_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    documents = [d["name"] for d in data.get("documents", [])]
    flagged: dict[tuple[str, int], int] = {}
    for f in data.get("findings", []):
        where = f.get("location") or {}
        if f.get("status") != "pass" and where.get("document") and where.get("page"):
            key = (where["document"], where["page"])
            flagged[key] = flagged.get(key, 0) + 1
    out = []
    for p in data.get("pages", []):
        if p["document"] not in documents:
            continue
        doc = documents.index(p["document"])
        out.append({"doc": doc, "page": p["page"], "document": p["document"],
                    "kind": PAGE_KIND_ZH.get(p.get("kind", ""), p.get("kind", "")),
                    "seals": len(p.get("seals", [])),
                    "flagged": flagged.get((p["document"], p["page"]), 0),
                    "src": f"/api/reports/{report_id}/pages/{doc}/{p['page']}.jpg?boxes=true"})
    return out


def job_view(job: JobStatus | None, report_id: int | None) -> dict[str, Any] | None:
    if job is None:
        return None
    out = job_json(job)
    out["report_id"] = report_id
    out["finished"] = job.finished
    return out


# Routes ----------------------------------------------------------------------------------------

def web_routes() -> APIRouter:  # noqa: PLR0915 - one closure per page keeps them together
    router = APIRouter(route_class=WebRoute, include_in_schema=False)

    @router.get("/login")
    async def login_form(request: Request, next: str = "/") -> Response:
        svc = services_of(request)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            try:
                await run_in_threadpool(resolve, svc.db, token, via_cookie=True)
                return see_other(safe_next(next))
            except AuthenticationError:
                pass
        return render(request, "login.html", next=safe_next(next), username="", error=None)

    @router.post("/login")
    def login(request: Request, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/",
              ) -> Response:
        from api.app import set_session_cookie

        svc = services_of(request)
        target = safe_next(next)
        if not username.strip() or not password:
            error = "请输入用户名和密码。"
        else:
            try:
                session = log_in(svc.db, svc.limiter, username[:64], password[:256],
                                 client=request.client.host if request.client else "unknown",
                                 hours=svc.settings.api.session_hours)
            except RateLimitedError as exc:
                wait = re.search(r"(\d+) s", str(exc))
                error = ("登录失败次数过多，请" + (f" {wait.group(1)} 秒后" if wait else "稍后")
                         + "再试。")
                return render(request, "login.html", status=429, next=target,
                              username=username, error=error)
            except AuthenticationError:
                error = "用户名或密码错误。"
            else:
                response = see_other(target)
                set_session_cookie(response, session.token, svc.settings)
                return response
        return render(request, "login.html", status=401, next=target, username=username,
                      error=error)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        who = await who_is(request)
        svc = services_of(request)
        await run_in_threadpool(svc.db.revoke_session, who.token_sha256)
        await run_in_threadpool(svc.db.audit, actor=who.actor, action="logout",
                                subject=f"user:{who.user.username}")
        response = see_other("/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/")
    async def home(request: Request, campaign: str = "") -> Response:
        who = await who_is(request)
        campaigns = await run_in_threadpool(services_of(request).db.campaigns)
        if campaigns:
            chosen = campaign if campaign in dict(campaigns) else campaigns[0][0]
            return see_other(f"/campaigns/{quote(chosen)}")
        return render(request, "empty.html", who=who)

    @router.get("/campaigns/{campaign}")
    def dashboard(request: Request, campaign: str, q: str = "", stage: str = "",
                  verdict: str = "") -> Response:
        from api.app import filter_labs

        who = _who_sync(request)
        svc = services_of(request)
        campaigns = svc.db.campaigns()
        names = dict(campaigns)
        if campaign not in names:
            raise NotFoundError(f"there is no campaign {campaign}", subject=campaign)
        everything = lab_summaries(svc.db, campaign, unit=who.unit_scope)
        rows = filter_labs(everything, q=q[:100], stage=stage, verdict=verdict)
        counts = {key: sum(1 for s in everything if s.stage == key) for key in STAGE_ZH}
        live = [s for s in rows if s.job is not None and not s.job.finished]
        return render(request, "dashboard.html", who=who, campaign=campaign,
                      campaign_name=names[campaign], campaigns=campaigns, rows=rows,
                      total=len(everything), counts=counts, q=q, stage=stage, verdict=verdict,
                      live={s.lab.lab_id: job_view(s.job, None) for s in live},
                      open_total=sum(s.open_findings for s in everything))

    @router.get("/campaigns/{campaign}/labs/{lab_id}")
    def lab_page(request: Request, campaign: str, lab_id: str) -> Response:
        who = _who_sync(request)
        svc = services_of(request)
        lab = svc.db.lab(campaign, lab_id)
        who.check_lab(lab)
        record = None
        with contextlib.suppress(IntakeError):
            record = svc.db.latest_record(campaign, lab_id)
        dossiers = svc.db.dossiers(campaign, lab_id=lab_id)
        ids = [d.id for d in dossiers]
        reports = svc.db.latest_reports(ids)
        latest: dict[int, JobStatus] = {}
        for job in svc.db.jobs(dossier_ids=ids, limit=10_000) if ids else []:
            if job.dossier_id is not None:
                latest.setdefault(job.dossier_id, job)
        items = []
        for d in dossiers:
            report = reports.get(d.id)
            items.append({"d": d, "report": report,
                          "job": job_view(latest.get(d.id), report.id if report else None),
                          "pages": sum(p or 0 for *_, p in d.documents)})
        return render(request, "lab.html", who=who, campaign=campaign, lab=lab, record=record,
                      dossiers=items, may_upload=who.role in (Role.SECRETARIAT, Role.UNIT),
                      accept=ACCEPT)

    @router.get("/campaigns/{campaign}/upload")
    def batch_page(request: Request, campaign: str) -> Response:
        who = _who_sync(request)
        who.require(Role.SECRETARIAT)
        svc = services_of(request)
        labs = svc.db.labs(campaign)
        if not labs:
            raise NotFoundError(f"campaign {campaign} has no labs; import its records first",
                                subject=campaign)
        return render(request, "upload.html", who=who, campaign=campaign, labs=labs,
                      accept=ACCEPT + ",.zip")

    @router.get("/reports/{report_id}")
    def report_page(request: Request, report_id: Id, doc: int | None = None,
                    page: int | None = None) -> Response:
        who = _who_sync(request)
        svc = services_of(request)
        view = report_view(svc.db, report_id)
        who.check_lab(view.dossier.lab)
        data = view.report.data
        names = display_names(svc)
        findings = finding_views(report_id, data, view.decisions, view.history, names)
        pages = page_views(report_id, data)
        shown = next((p for p in pages if p["doc"] == doc and p["page"] == page), None)
        if shown is None:
            first_flagged = next((f["page"] for f in findings
                                  if f["status"] != "pass" and f["page"]), None)
            shown = next((p for p in pages if first_flagged and p["doc"] == first_flagged["doc"]
                          and p["page"] == first_flagged["page"]), pages[0] if pages else None)
        issues = [f for f in findings if f["status"] != "pass"]
        issues.sort(key=lambda f: (f["status"] != "fail", f["index"]))
        decided = {"confirm": 0, "dismiss": 0}
        for f in issues:
            if f["decision"] is not None:
                decided[f["decision"].decision] = decided.get(f["decision"].decision, 0) + 1
        others = [v for v in svc.db.reports(view.dossier.id) if v.id != report_id]
        groups: list[dict[str, Any]] = []
        for p in pages:
            if not groups or groups[-1]["document"] != p["document"]:
                groups.append({"document": p["document"], "pages": []})
            groups[-1]["pages"].append(p)
        return render(request, "report.html", who=who, view=view, data=data,
                      lab=view.dossier.lab, issues=issues,
                      passed=[f for f in findings if f["status"] == "pass"], page_groups=groups,
                      shown=shown, decided=decided, open_count=len(issues) - sum(decided.values()),
                      may_decide=who.role in (Role.REVIEWER, Role.SECRETARIAT),
                      created_by=actor_name(view.report.created_by, names), others=others)

    @router.post("/reports/{report_id}/findings/{index}/decision")
    async def decide(request: Request, report_id: Id, index: Index,
                     decision: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                     ) -> Response:
        from api.app import finding_of

        who = await who_is(request)  # checks the form's CSRF token
        who.require(Role.REVIEWER, Role.SECRETARIAT)
        svc = services_of(request)
        view = await run_in_threadpool(report_view, svc.db, report_id)
        who.check_lab(view.dossier.lab)
        finding = finding_of(view.report.data, index)
        if decision not in {d.value for d in Decision}:
            raise InputError("choose confirm (确认) or dismiss (驳回)", subject=f"finding {index}")
        await run_in_threadpool(
            lambda: svc.db.record_disposition(
                report_id, decision=Decision(decision), reason=reason[:2000], reviewer=who.actor,
                finding_index=index, rule=finding.get("rule"), field=finding.get("field")))
        return see_other(f"/reports/{report_id}#finding-{index}")

    return router


# What the file pickers offer; the service decides the type by the bytes, not the name.
ACCEPT = ".pdf,.tif,.tiff,.jpg,.jpeg,.png"


def _who_sync(request: Request) -> Principal:
    """The principal for a sync page route (run in the thread pool): only GET pages use it, so
    no CSRF token is involved."""
    svc = services_of(request)
    return resolve(svc.db, request.cookies.get(SESSION_COOKIE), via_cookie=True)


__all__ = ["CSRF_FIELD", "error_page", "web_routes"]
