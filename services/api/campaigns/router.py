from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, status
from starlette.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.campaigns import service
from services.api.campaigns.certificates import render_pdf
from services.api.campaigns.export import table_response
from services.api.campaigns.judging import TIE_BREAK
from services.api.campaigns.models import Campaign, CampaignPackage
from services.api.campaigns.schemas import (AssignmentRead, Disqualification, EntryRead, JudgedFile, JudgedPart, CampaignCreate, CampaignRead, CertificateRead,
                                            ExportFormat, LevelRead, ObjectionCreate, ObjectionDecision,
                                            ObjectionRead, PackageCreate, PackageItems, PackageRead, PanelCreate,
                                            PanelProgressRead, PanelRead, ParticipationRead, PartRead, Promotion,
                                            RankedRead, RankingRead, ScoredRead, ScoreSheet, WinnerRead)
from services.api.db import SessionDep
from services.api.routing import api_router

router = api_router(tags=["campaigns"])
# A level's place in its campaign, from 0 (the first, lowest) to 2 (a campaign has up to three).
LevelPosition = Annotated[int, Path(ge=0, le=2)]
# Which organisation's round of the level: a district or region id. Without it, the caller's own
# (their district's, or their region's), or the level's only round.
OrgQuery = Annotated[str | None, Query(max_length=26)]
# Long enough to watch a 45-minute lesson from one link.
JUDGE_URL_TTL_S = 3 * 3600


def _campaign_read(session, campaign: Campaign) -> CampaignRead:  # type: ignore[no-untyped-def]
    return CampaignRead(id=campaign.id, title=campaign.title, categories=campaign.categories, rubric=campaign.rubric,
                        region_id=campaign.region_id,
                        aggregation=campaign.aggregation, tie_break=TIE_BREAK,
                        levels=[LevelRead.model_validate(level, from_attributes=True)
                                for level in service.levels_of(session, campaign_id=campaign.id)])


def _package_read(session, campaign: Campaign, package: CampaignPackage) -> PackageRead:  # type: ignore[no-untyped-def]
    parts = service.completeness(session, campaign=campaign, package=package)
    return PackageRead(id=package.id, campaign_id=package.campaign_id, category=package.category, title=package.title,
                       status=package.status, submitted_at=package.submitted_at,
                       items={i.part: i.resource_id for i in service.items_of(session, package_id=package.id)},
                       complete=all(p.ok for p in parts),
                       parts=[PartRead(part=p.part, required=p.required, resource_id=p.resource_id, ok=p.ok,
                                       problems=p.problems) for p in parts])


@router.post("/campaigns", response_model=CampaignRead, status_code=status.HTTP_201_CREATED)
def create_campaign(session: SessionDep, caller: CurrentUser, body: CampaignCreate) -> CampaignRead:
    campaign = service.create_campaign(
        session, actor=caller, title=body.title, aggregation=body.aggregation,
        categories={code: c.model_dump() for code, c in body.categories.items()},
        rubric=[c.model_dump() for c in body.rubric],
        levels=[service.LevelSpec(**level.model_dump()) for level in body.levels])
    session.commit()
    return _campaign_read(session, campaign)


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
def read_campaign(session: SessionDep, caller: CurrentUser, campaign_id: str) -> CampaignRead:
    return _campaign_read(session, service.get_campaign(session, campaign_id=campaign_id))


@router.post("/campaigns/{campaign_id}/packages", response_model=PackageRead, status_code=status.HTTP_201_CREATED)
def create_package(session: SessionDep, caller: CurrentUser, campaign_id: str, body: PackageCreate) -> PackageRead:
    package = service.create_package(session, actor=caller, campaign_id=campaign_id, category=body.category,
                                     title=body.title, items=body.items)
    session.commit()
    return _package_read(session, service.get_campaign(session, campaign_id=campaign_id), package)


@router.get("/campaigns/{campaign_id}/packages/{package_id}", response_model=PackageRead)
def read_package(session: SessionDep, caller: CurrentUser, campaign_id: str, package_id: str) -> PackageRead:
    package = service.get_package(session, actor=caller, campaign_id=campaign_id, package_id=package_id)
    return _package_read(session, service.get_campaign(session, campaign_id=campaign_id), package)


@router.put("/campaigns/{campaign_id}/packages/{package_id}/items", response_model=PackageRead)
def replace_items(session: SessionDep, caller: CurrentUser, campaign_id: str, package_id: str,
                  body: PackageItems) -> PackageRead:
    package = service.replace_items(session, actor=caller, campaign_id=campaign_id, package_id=package_id,
                                    items=body.items)
    session.commit()
    return _package_read(session, service.get_campaign(session, campaign_id=campaign_id), package)


@router.post("/campaigns/{campaign_id}/packages/{package_id}/submit", response_model=PackageRead)
def submit_package(session: SessionDep, caller: CurrentUser, campaign_id: str, package_id: str) -> PackageRead:
    package = service.submit_package(session, actor=caller, campaign_id=campaign_id, package_id=package_id)
    session.commit()
    return _package_read(session, service.get_campaign(session, campaign_id=campaign_id), package)


@router.post("/campaigns/{campaign_id}/packages/{package_id}/withdraw", response_model=PackageRead)
def withdraw_package(session: SessionDep, caller: CurrentUser, campaign_id: str, package_id: str) -> PackageRead:
    package = service.withdraw_package(session, actor=caller, campaign_id=campaign_id, package_id=package_id)
    session.commit()
    return _package_read(session, service.get_campaign(session, campaign_id=campaign_id), package)


@router.post("/campaigns/{campaign_id}/levels/{position}/panels", response_model=PanelRead,
             status_code=status.HTTP_201_CREATED)
def create_panel(session: SessionDep, caller: CurrentUser, campaign_id: str, position: LevelPosition,
                 body: PanelCreate, org: OrgQuery = None) -> PanelRead:
    level = service.find_round(session, actor=caller, campaign_id=campaign_id, position=position, org_id=org)
    panel = service.create_panel(session, actor=caller, level=level, subject_code=body.subject_code, name=body.name,
                                 judge_ids=body.judge_ids)
    session.commit()
    return PanelRead(id=panel.id, subject_code=panel.subject_code, name=panel.name, judge_ids=panel.judge_ids)


@router.post("/campaigns/{campaign_id}/levels/{position}/judging", response_model=list[PanelProgressRead])
def start_judging(session: SessionDep, caller: CurrentUser, campaign_id: str, position: LevelPosition,
                  org: OrgQuery = None) -> list[PanelProgressRead]:
    level = service.find_round(session, actor=caller, campaign_id=campaign_id, position=position, org_id=org)
    service.start_judging(session, actor=caller, level=level)
    session.commit()
    return [PanelProgressRead.model_validate(p, from_attributes=True) for p in service.progress(session, level=level)]


@router.get("/me/judging", response_model=list[AssignmentRead])
def my_assignments(session: SessionDep, caller: CurrentUser) -> list[AssignmentRead]:
    return [AssignmentRead(id=a.id, campaign_id=level.campaign_id, level=level.name, package_id=p.id, title=p.title,
                           category=p.category, subject_code=p.subject_code, scored=a.scored_at is not None,
                           scores=a.scores)
            for a, p, level in service.my_assignments(session, actor=caller)]


@router.get("/campaigns/{campaign_id}/assignments/{assignment_id}/package", response_model=list[JudgedPart])
def assigned_package(request: Request, session: SessionDep, caller: CurrentUser, campaign_id: str,
                     assignment_id: str) -> list[JudgedPart]:
    """A judge's view of a package assigned to them: each part and signed links to its files."""
    store = request.app.state.blob_store
    return [JudgedPart(part=item.part, resource_id=resource.id, title=resource.title, kind=resource.kind.value,
                       files=[JudgedFile(filename=asset.filename, media_type=asset.media_type,
                                         duration_s=asset.duration_s,
                                         url=store.presigned_get_url(blob.key, expires_s=JUDGE_URL_TTL_S,
                                                                     filename=asset.filename))
                              for asset, blob in files])
            for item, resource, files in service.assigned_package(session, actor=caller, campaign_id=campaign_id,
                                                                  assignment_id=assignment_id)]


@router.put("/campaigns/{campaign_id}/assignments/{assignment_id}/scores", response_model=ScoredRead)
def score(session: SessionDep, caller: CurrentUser, campaign_id: str, assignment_id: str,
          body: ScoreSheet) -> ScoredRead:
    assignment = service.score(session, actor=caller, campaign_id=campaign_id, assignment_id=assignment_id,
                               sheet={code: (s.score, s.comment) for code, s in body.scores.items()})
    session.commit()
    return ScoredRead(id=assignment.id, total=assignment.total or 0.0)


@router.get("/campaigns/{campaign_id}/levels/{position}/progress", response_model=list[PanelProgressRead])
def progress(session: SessionDep, caller: CurrentUser, campaign_id: str, position: LevelPosition,
             format: ExportFormat = "json", org: OrgQuery = None) -> object:
    level = service.find_round(session, actor=caller, campaign_id=campaign_id, position=position, org_id=org)
    service.require_round_viewer(session, actor=caller, level=level)
    rows = service.progress(session, level=level)
    if format != "json":
        return table_response(name="progress", fmt=format, header=["评审组", "学科", "评委", "任务", "已评"],
                              rows=[[p.name, p.subject_code, p.judges, p.assignments, p.scored] for p in rows])
    return [PanelProgressRead.model_validate(p, from_attributes=True) for p in rows]


@router.get("/campaigns/{campaign_id}/levels/{position}/ranking", response_model=RankingRead)
def ranking(session: SessionDep, caller: CurrentUser, campaign_id: str, position: LevelPosition,
            format: ExportFormat = "json", org: OrgQuery = None) -> object:
    level = service.find_round(session, actor=caller, campaign_id=campaign_id, position=position, org_id=org)
    service.require_round_viewer(session, actor=caller, level=level)
    campaign = service.get_campaign(session, campaign_id=campaign_id)
    items = [RankedRead(rank=row.ranked.rank, package_id=row.package.id, title=row.package.title,
                        school_id=row.package.school_id, score=row.ranked.score,
                        first_criterion=row.ranked.first_criterion, judges=row.ranked.judges,
                        status=row.entry.status, entry_id=row.entry.id)
             for row in service.ranking_rows(session, level=level)]
    if format != "json":
        return table_response(name="ranking", fmt=format,
                              header=["名次", "课例", "标题", "学校", "得分", "首项得分", "评委数", "状态"],
                              rows=[[i.rank, i.package_id, i.title, i.school_id, i.score, i.first_criterion, i.judges,
                                     i.status.value] for i in items])
    return RankingRead(aggregation=campaign.aggregation, tie_break=TIE_BREAK, items=items)


@router.post("/campaigns/{campaign_id}/levels/{position}/promotions", response_model=list[str])
def propose(session: SessionDep, caller: CurrentUser, campaign_id: str, position: LevelPosition, body: Promotion,
            org: OrgQuery = None) -> list[str]:
    level = service.find_round(session, actor=caller, campaign_id=campaign_id, position=position, org_id=org)
    entries = service.propose(session, actor=caller, level=level, package_ids=body.package_ids)
    session.commit()
    return [e.id for e in entries]


@router.post("/campaigns/{campaign_id}/entries/{entry_id}/objections", response_model=ObjectionRead,
             status_code=status.HTTP_201_CREATED)
def file_objection(session: SessionDep, caller: CurrentUser, campaign_id: str, entry_id: str,
                   body: ObjectionCreate) -> ObjectionRead:
    objection = service.file_objection(session, actor=caller, campaign_id=campaign_id, entry_id=entry_id,
                                       reason=body.reason)
    session.commit()
    return ObjectionRead(id=objection.id, entry_id=objection.entry_id, status=objection.status)


@router.post("/campaigns/{campaign_id}/entries/{entry_id}/disqualification", response_model=EntryRead)
def disqualify(session: SessionDep, caller: CurrentUser, campaign_id: str, entry_id: str,
               body: Disqualification) -> EntryRead:
    entry = service.disqualify(session, actor=caller, campaign_id=campaign_id, entry_id=entry_id, reason=body.reason)
    session.commit()
    return EntryRead(id=entry.id, package_id=entry.package_id, status=entry.status)


@router.post("/campaigns/{campaign_id}/objections/{objection_id}/decision", response_model=ObjectionRead)
def decide_objection(session: SessionDep, caller: CurrentUser, campaign_id: str, objection_id: str,
                     body: ObjectionDecision) -> ObjectionRead:
    objection = service.decide_objection(session, actor=caller, campaign_id=campaign_id, objection_id=objection_id,
                                         uphold=body.uphold)
    session.commit()
    return ObjectionRead(id=objection.id, entry_id=objection.entry_id, status=objection.status)


@router.post("/campaigns/{campaign_id}/levels/{position}/finalise", response_model=list[str])
def finalise(session: SessionDep, caller: CurrentUser, campaign_id: str, position: LevelPosition,
             org: OrgQuery = None) -> list[str]:
    level = service.find_round(session, actor=caller, campaign_id=campaign_id, position=position, org_id=org)
    certificates = service.finalise(session, actor=caller, level=level)
    session.commit()
    return [c.code for c in certificates]


@router.get("/campaigns/{campaign_id}/winners", response_model=list[WinnerRead])
def winners(session: SessionDep, caller: CurrentUser, campaign_id: str, format: ExportFormat = "json") -> object:
    service.get_campaign(session, campaign_id=campaign_id)
    rows = service.winners(session, campaign_id=campaign_id)
    if format != "json":
        return table_response(name="winners", fmt=format,
                              header=["级别", "奖项", "名次", "得分", "课例", "标题", "教师", "学校", "证书编号"],
                              rows=[[w.level, w.award, w.rank, w.score, w.package_id, w.title, w.teacher, w.school,
                                     w.certificate_code] for w in rows])
    return [WinnerRead.model_validate(w, from_attributes=True) for w in rows]


@router.get("/campaigns/{campaign_id}/participation", response_model=list[ParticipationRead])
def participation(session: SessionDep, caller: CurrentUser, campaign_id: str, format: ExportFormat = "json",
                  org: OrgQuery = None) -> object:
    """Per school under the caller's organisation (a district's schools; a city's or province's:
    all of its districts'), or under `org`, an organisation below the caller's."""
    districts = service.participation_scope(session, actor=caller, campaign_id=campaign_id, org_id=org)
    rows = service.school_participation(session, campaign_id=campaign_id, district_ids=districts)
    if format != "json":
        return table_response(name="participation", fmt=format, header=["学校", "教师数", "报送教师数", "比例", "报送教师"],
                              rows=[[r.school, r.teachers, r.posted, r.share, r.posted_by] for r in rows])
    return [ParticipationRead.model_validate(r, from_attributes=True) for r in rows]


@router.get("/certificates/{code}", response_model=CertificateRead)
def verify_certificate(session: SessionDep, code: str) -> CertificateRead:
    """Public: anyone holding a certificate can check it."""
    return CertificateRead.model_validate(service.certificate(session, code=code), from_attributes=True)


@router.get("/certificates/{code}/pdf")
def certificate_pdf(request: Request, session: SessionDep, caller: CurrentUser, code: str) -> Response:
    view = service.certificate(session, code=code, actor=caller)
    pdf = render_pdf(view, verify_url=str(request.url_for("verify_certificate", code=view.code)))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="certificate-{view.code}.pdf"'})
