"""`lb`: the operator's command line — migrations, first administrator, schools and users,
taxonomy import/export, the demo district, and `lb dev` behind `make run`."""
from __future__ import annotations

import getpass
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Annotated
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.progress import TaskID
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api import demo, migrate
from services.api.audit import service as audit_log
from services.api.backups import service as backups
from services.api.orgs import service as orgs
from services.api.orgs.models import Role, SchoolKind
from services.api.orgs.models import District
from services.api.orgs.models import User
from services.api.audit import service as audit_service
from services.api.pairing import printing
from services.api.pairing import report as pairing_reports
from services.api.packs import reader as packs
from services.api.packs import signing as pack_signing
from services.api.taxonomy import service as taxonomy
from services.api.search import maintenance
from services.api.search import outbox
from services.api.stats import snapshots as participation_snapshots
from services.api.search.client import SearchClient
from services.api.search.documents import resource_count
from services.api.search.errors import SearchUnavailable
from services.api.search.models import SearchOutbox
from services.api.stats import export as stats_export
from services.api.stats import service as stats
from services.api.uploads import gc
from services.api.uploads import service as uploads
from services.common.db import create_db_engine, create_sessionmaker, writer_session
from services.common.db import utcnow
from services.common.problems import DomainError
from services.common.settings import Settings
from services.common.storage import create_blob_store

app = typer.Typer(help="LessonBridge operations.", no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def _every_command() -> None:
    """LessonBridge operations."""
    outbox.install()  # commands that change resources write their search outbox rows
    participation_snapshots.install()  # and remove the closed semesters' figures they may change
db_app = typer.Typer(help="The relational database.", no_args_is_help=True)
taxonomy_app = typer.Typer(help="Subjects, grades, editions, chapters and knowledge points.", no_args_is_help=True)
blobs_app = typer.Typer(help="Stored files.", no_args_is_help=True)
uploads_app = typer.Typer(help="tus uploads.", no_args_is_help=True)
search_app = typer.Typer(help="The search index.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(blobs_app, name="blobs")
app.add_typer(uploads_app, name="uploads")
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(search_app, name="search")
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
backup_app = typer.Typer(help="Backups of the database and the stored files, and restoring them.",
                         no_args_is_help=True)
app.add_typer(backup_app, name="backup")
pack_app = typer.Typer(help="Offline packs: verify a pack file, import it into an edge's cache.", no_args_is_help=True)
app.add_typer(pack_app, name="pack")
console = Console(stderr=True)
REPO_ROOT = Path(__file__).resolve().parents[2]


def _session(*, writer: bool = False) -> Session:
    """`writer` for commands that read and then write while the API may be writing too (see
    `writer_session`); not for long scans, which would hold every writer off meanwhile."""
    settings = Settings.from_env()
    engine = create_db_engine(settings.database_url, echo=settings.database.echo)
    sessions = create_sessionmaker(engine)
    return writer_session(sessions) if writer else sessions()


def _fail(error: DomainError) -> None:
    body = error.problem("zh-CN" if os.environ.get("LANG", "").startswith("zh") else "en")
    console.print(f"[red]{body['title']}[/red]: {body['detail']}")
    for item in body.get("errors") or []:
        console.print(f"  {'.'.join(map(str, item['loc']))}: {item['msg']}")
    raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings.from_env()
    migrate.upgrade(create_db_engine(settings.database_url))
    console.print("database is up to date")


@app.command("create-admin")
def create_admin(district: Annotated[str, typer.Option(help="District name; created if missing.")],
                 username: Annotated[str, typer.Option()], real_name: Annotated[str, typer.Option()],
                 password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None) -> None:
    """Create a district administrator (and the district): the first account of a deployment."""
    password = password or getpass.getpass("password: ")
    with _session(writer=True) as session:
        try:
            target = orgs.find_district(session, name=district) or orgs.create_district(
                session, name=district, actor_id=None)
            user = orgs.create_user(session, actor=None, username=username, real_name=real_name, password=password,
                                    roles=[Role.district_admin], school_id=None, district_id=target.id)
            session.commit()
        except DomainError as error:
            _fail(error)
        console.print(f"created district administrator {user.username} ({user.id}) in {district}")


@app.command("create-school")
def create_school(district_id: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
                  kind: Annotated[SchoolKind, typer.Option()], bandwidth_kbps: Annotated[int, typer.Option()]) -> None:
    with _session(writer=True) as session:
        try:
            school = orgs.create_school(session, actor=None, district_id=district_id, name=name, kind=kind,
                                        bandwidth_kbps=bandwidth_kbps)
            session.commit()
        except DomainError as error:
            _fail(error)
        typer.echo(school.id)


@app.command("create-user")
def create_user(username: Annotated[str, typer.Option()], real_name: Annotated[str, typer.Option()],
                role: Annotated[list[Role], typer.Option(help="Repeat for several roles.")],
                school_id: Annotated[str | None, typer.Option()] = None,
                district_id: Annotated[str | None, typer.Option()] = None,
                password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None) -> None:
    password = password or getpass.getpass("password: ")
    with _session(writer=True) as session:
        try:
            user = orgs.create_user(session, actor=None, username=username, real_name=real_name, password=password,
                                    roles=role, school_id=school_id, district_id=district_id)
            session.commit()
        except DomainError as error:
            _fail(error)
        typer.echo(user.id)


@taxonomy_app.command("seed")
def taxonomy_seed() -> None:
    """Load (or refresh) the taxonomy shipped with LessonBridge."""
    _import(taxonomy.seed_document(), label="seed taxonomy")


@taxonomy_app.command("import")
def taxonomy_import(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import a JSON taxonomy document or a CSV of knowledge points; all of it or nothing."""
    media_type = "text/csv" if path.suffix.lower() == ".csv" else "application/json"
    try:
        document = taxonomy.parse_document(path.read_bytes(), media_type=media_type)
    except DomainError as error:
        _fail(error)
    _import(document, label=path.name)


def _import(document: taxonomy.TaxonomyDocument, *, label: str) -> None:
    with _session(writer=True) as session, _progress() as progress:
        task = progress.add_task(f"importing {label}", total=taxonomy.document_size(document))
        try:
            report = taxonomy.import_document(session, document, actor_id=None, district_id=None,
                                              progress=lambda n: progress.advance(task, n))
            session.commit()
        except DomainError as error:
            progress.stop()
            _fail(error)
    console.print(f"created {report.created}\nupdated {report.updated}")


@taxonomy_app.command("export")
def taxonomy_export(path: Annotated[Path, typer.Argument(dir_okay=False)],
                    format: Annotated[str, typer.Option(help="json or csv (knowledge points)")] = "json") -> None:
    with _session() as session:
        if format == "csv":
            path.write_text(taxonomy.export_knowledge_points_csv(session), encoding="utf-8")
        else:
            document = taxonomy.export_document(session)
            path.write_text(json.dumps(document.model_dump(mode="json"), ensure_ascii=False, indent=1), "utf-8")
    console.print(f"wrote {path}")


@blobs_app.command("gc")
def blobs_gc(apply: Annotated[bool, typer.Option("--apply", help="Delete; without it, only report.")] = False) -> None:
    """Find stored files nothing uses any more (dry run unless --apply)."""
    settings = Settings.from_env()
    store = create_blob_store(settings)
    with _session() as session, _progress() as progress:
        task = progress.add_task("scanning storage", total=None)
        report = gc.collect_garbage(session, store=store, apply=apply, progress=lambda n: progress.advance(task, n),
                                    operator=getpass.getuser())
    verb = "deleted" if apply else "would delete"
    for key in report.orphan_blobs + report.stray_objects:
        typer.echo(f"{verb} {key}")
    console.print(f"{verb} {len(report.orphan_blobs)} orphan blobs and {len(report.stray_objects)} stray objects, "
                  f"{report.freed_bytes / 2**20:.1f} MiB" + ("" if apply else " (dry run: add --apply)"))


@uploads_app.command("expire")
def uploads_expire() -> None:
    """Discard abandoned uploads and their partial bytes (also run periodically by the API)."""
    settings = Settings.from_env()
    with _session(writer=True) as session:
        count = uploads.expire_uploads(session, store=create_blob_store(settings),
                                       spool_root=settings.core.data_dir / "uploads")
    console.print(f"expired {count} uploads")


def _search_client(settings: Settings) -> SearchClient:
    return SearchClient(settings.search_url, secret=settings.search_principal_key)


@search_app.command("status")
def search_status() -> None:
    """The index as the search service reports it, and outbox rows waiting to be relayed."""
    settings = Settings.from_env()
    with _session() as session:
        waiting = session.scalar(select(func.count()).select_from(SearchOutbox)) or 0
    client = _search_client(settings)
    try:
        state = client.state()
    except SearchUnavailable as error:
        _fail(error)
    typer.echo(json.dumps({**state, "outbox_waiting": waiting}, ensure_ascii=False))


@search_app.command("reindex")
def search_reindex() -> None:
    """Rebuild the index from the database beside the live one, then swap it in."""
    settings = Settings.from_env()
    client = _search_client(settings)
    with _session() as session, _progress() as progress:
        task = progress.add_task("reindexing resources", total=resource_count(session))
        try:
            sent = maintenance.reindex(session, client=client, store=create_blob_store(settings),
                                       progress=lambda n: progress.advance(task, n))
        except SearchUnavailable as error:
            _fail(error)
    console.print(f"reindexed {sent} resources")


@search_app.command("reconcile")
def search_reconcile(repair: Annotated[bool, typer.Option("--repair/--no-repair",
                                                          help="Send the current state of every drifted resource.")] = True,
                     as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Compare the database with the index; with --repair (the default) fix what differs."""
    settings = Settings.from_env()
    with _session() as session, console.status("comparing the database with the index"):
        try:
            drift = maintenance.reconcile(session, client=_search_client(settings), store=create_blob_store(settings),
                                          repair=repair)
        except SearchUnavailable as error:
            _fail(error)
    if as_json:
        typer.echo(json.dumps(drift.summary(), ensure_ascii=False))
        return
    console.print(f"checked {drift.checked_database} resources against {drift.checked_index} index entries: "
                  f"{len(drift.missing)} missing or outdated, {len(drift.stale_live)} shown but not published"
                  + (f"; repaired {drift.repaired}" if repair and drift.total else ""))


def _progress_steps(progress: Progress) -> backups.ProgressFn:
    """A bar per step of a backup or restore, as the service reports them."""
    tasks: dict[str, TaskID] = {}

    def report(step: str, done: int, total: int | None) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=total)
        progress.update(tasks[step], completed=done, total=total)

    return report


TargetArgument = Annotated[Path, typer.Argument(help="The backup directory (created by the first backup).")]


@backup_app.command("create")
def backup_create(target: TargetArgument) -> None:
    """Back up the database and the stored files into TARGET; files it already holds are not copied again."""
    settings = Settings.from_env()
    engine = create_db_engine(settings.database_url)
    try:
        with _progress() as progress:
            report = backups.create_backup(target=target, database_url=settings.database_url,
                                           sessions=create_sessionmaker(engine), store=create_blob_store(settings),
                                           progress=_progress_steps(progress))
    except DomainError as error:
        _fail(error)
    finally:
        engine.dispose()
    manifest = report.manifest
    typer.echo(manifest.id)
    console.print(f"backed up the database ({manifest.database.size / 2**20:.1f} MiB) and {len(manifest.blobs)} files "
                  f"({manifest.blob_bytes / 2**20:.1f} MiB, {report.copied_blobs} new: "
                  f"{report.copied_bytes / 2**20:.1f} MiB copied) to {report.path}")


@backup_app.command("list")
def backup_list(target: TargetArgument,
                as_json: Annotated[bool, typer.Option("--json", help="One JSON object per backup.")] = False) -> None:
    """The backups in TARGET, oldest first."""
    try:
        summaries = backups.list_backups(target=target)
    except DomainError as error:
        _fail(error)
    for summary in summaries:
        manifest = summary.manifest
        if as_json:
            typer.echo(json.dumps({"id": summary.id, "problem": summary.problem} if manifest is None else {
                "id": summary.id, "created_at": manifest.created_at.isoformat(),
                "schema_revision": manifest.schema_revision, "database": manifest.database.kind,
                "database_bytes": manifest.database.size, "files": len(manifest.blobs),
                "file_bytes": manifest.blob_bytes}))
        elif manifest is None:
            typer.echo(f"{summary.id}  UNREADABLE: {summary.problem}")
        else:
            typer.echo(f"{summary.id}  {manifest.created_at:%Y-%m-%d %H:%M:%S}Z  schema {manifest.schema_revision}  "
                       f"{manifest.database.kind} {manifest.database.size / 2**20:.1f} MiB  "
                       f"{len(manifest.blobs)} files {manifest.blob_bytes / 2**20:.1f} MiB")


@backup_app.command("verify")
def backup_verify(target: TargetArgument,
                  backup_id: Annotated[str | None, typer.Option("--backup", help="One backup; all by default.")] = None
                  ) -> None:
    """Re-hash every file of the backups in TARGET; exit 1 on any mismatch or missing file."""
    try:
        with _progress() as progress:
            report = backups.verify_backups(target=target, backup_id=backup_id, progress=_progress_steps(progress))
    except DomainError as error:
        _fail(error)
    for problem in report.problems:
        typer.echo(f"BAD {problem}")
    console.print(f"checked {len(report.checked)} backups: {report.files} files, {report.bytes / 2**20:.1f} MiB, "
                  f"{len(report.problems)} problems")
    if not report.ok:
        raise typer.Exit(1)


@backup_app.command("restore")
def backup_restore(target: TargetArgument,
                   backup_id: Annotated[str | None, typer.Option("--backup", help="Which; the newest by default.")] = None,
                   force: Annotated[bool, typer.Option("--force", help="Overwrite a database or storage that "
                                                                       "already holds data.")] = False,
                   reindex: Annotated[bool, typer.Option("--reindex/--no-reindex",
                                                         help="Rebuild the search index now.")] = True) -> None:
    """Restore a backup (verified first) into the configured database and storage; stop the API
    and the workers before."""
    settings = Settings.from_env()
    try:
        with _progress() as progress:
            report = backups.restore_backup(
                target=target, backup_id=backup_id, database_url=settings.database_url,
                store=create_blob_store(settings), search=_search_client(settings) if reindex else None, force=force,
                progress=_progress_steps(progress))
    except DomainError as error:
        _fail(error)
    console.print(f"restored backup {report.manifest.id} (schema {report.manifest.schema_revision}, "
                  f"{report.blobs} files)")
    if report.search_rebuilt is not None:
        console.print(f"rebuilt the search index: {report.search_rebuilt} resources")
    else:
        console.print("[yellow]the search index was not rebuilt[/yellow]" +
                      (f" (no answer from {settings.search_url})" if reindex else "") +
                      ": the API's relay refills an empty index once it runs; run `lb search reindex` "
                      "when the search service is up to replace an older one")


@backup_app.command("prune")
def backup_prune(target: TargetArgument,
                 keep: Annotated[int, typer.Option(min=1, help="How many of the newest backups to keep.")]) -> None:
    """Remove all but the newest KEEP backups, and the files only they held."""
    try:
        report = backups.prune_backups(target=target, keep=keep)
    except DomainError as error:
        _fail(error)
    for backup_id in report.removed:
        typer.echo(f"removed {backup_id}")
    console.print(f"kept {len(report.kept)} backups; removed {len(report.removed)} and {report.removed_blobs} files "
                  f"only they held ({report.freed_bytes / 2**20:.1f} MiB)")


@app.command("demo")
def seed_demo(password: Annotated[str | None, typer.Option(envvar="LB_DEMO_PASSWORD")] = None) -> None:
    """Seed the demo district if the database has no district yet."""
    settings = Settings.from_env()
    _seed_demo_if_empty(settings, password)


def _seed_demo_if_empty(settings: Settings, password: str | None) -> str | None:
    """Seeds an empty database; returns the demo password when it is known."""
    password_file = settings.core.data_dir / "demo-password.txt"
    with _session(writer=True) as session:
        if not demo.is_empty(session):
            return password or (password_file.read_text().strip() if password_file.exists() else None)
        password = password or secrets.token_urlsafe(9)
        with console.status("seeding the demo district"):
            demo.seed_demo(session, password=password)
            session.commit()
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password)
    password_file.chmod(0o600)
    return password


@app.command("dev")
def dev() -> None:
    """Migrate, seed the demo district when empty, then run every service (`make run`)."""
    settings = Settings.from_env()
    migrate.upgrade(create_db_engine(settings.database_url))
    password = _seed_demo_if_empty(settings, os.environ.get("LB_DEMO_PASSWORD"))
    base = f"http://{settings.api.host}:{settings.api.port}"
    console.print(f"""
[bold]LessonBridge is starting[/bold] (data in {settings.core.data_dir.resolve()})
  API        {base}/api/v1      docs {base}/docs
  console    {base}/console/    (open it in a browser; sign in with a demo account)
  health     {base}/healthz  {base}/readyz  {base}/metrics
  search     {settings.search_url}/healthz
  transcoder http://127.0.0.1:{settings.transcoder.health_port}/readyz
  demo accounts (password: {password or 'as set when the demo was seeded'}):
    {', '.join(demo.DEMO_ACCOUNTS)}
  try: curl -s -d username=teacher-urban -d password=... {base}/api/v1/auth/token
Ctrl-C stops everything.
""", soft_wrap=True)
    honcho = shutil.which("honcho", path=str(Path(sys.executable).parent)) or "honcho"
    env = {**os.environ, "LB_API_HOST": settings.api.host, "LB_API_PORT": str(settings.api.port),
           "LB_SEARCH_PORT": str(settings.search.port), "LB_DATA_DIR": str(settings.core.data_dir.resolve()),
           # The search service gets its own key; the Procfile keeps LB_SECRET_KEY from it.
           "LB_SEARCH_PRINCIPAL_KEY": settings.search_principal_key.decode()}
    os.execvpe(honcho, [honcho, "start", "-f", str(REPO_ROOT / "Procfile"),
                        "-d", str(REPO_ROOT)], env)


@audit_app.command("verify")
def audit_verify(anchor: Annotated[str | None, typer.Option(
        help="SEQ:HASH printed by an earlier run and kept elsewhere: that row must still have that hash "
             "(catches a chain rewritten from some row on, hashes and all)")] = None) -> None:
    """Walk the audit hash chain; exit 1 naming the first row edited, removed or moved."""
    expected = None
    if anchor is not None:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            console.print("[red]--anchor takes SEQ:HASH (a number, a colon, 64 hex digits)[/red]")
            raise typer.Exit(2)
        expected = (int(seq), digest.lower())
    with _session() as session:
        report = audit_log.verify_chain(session, anchor=expected)
    if report.problem is not None:
        console.print(f"[red]audit chain broken[/red] at {report.problem} ({report.rows} rows before it are intact)")
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {report.rows} rows; head {report.head_seq}:{report.head_hash}")
@app.command("stats")
def participation(semester: Annotated[str | None, typer.Option(help="e.g. 2026-fall; default: the current one")] = None,
                  stage: Annotated[str | None, typer.Option(help="a stage code, e.g. primary")] = None,
                  subject: Annotated[str | None, typer.Option(help="a subject code, e.g. math")] = None,
                  district_id: Annotated[str | None, typer.Option(help="needed when there are several")] = None,
                  school_id: Annotated[str | None, typer.Option(help="one school only")] = None,
                  output: Annotated[str, typer.Option("--format", help="table, csv (schools) or json")] = "table",
                  ) -> None:
    """Participation figures: what GET /statistics/participation and …/schools answer."""
    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("table, csv or json", param_hint="--format")
    language = "zh-CN" if os.environ.get("LANG", "").startswith("zh") else "en"
    with _session() as session:
        if district_id is None:
            districts = list(session.scalars(select(District.id).limit(2)))
            if len(districts) != 1:
                raise typer.BadParameter("name the district (there is none, or several)", param_hint="--district-id")
            district_id = districts[0]
        try:
            scope = stats.scope(session, semester=semester, stage=stage, subject=subject, now=utcnow())
            district = stats.district_figures(session, district_id=district_id, scope=scope)
            schools = stats.district_school_figures(session, district_id=district_id, scope=scope, school_id=school_id)
        except DomainError as error:
            _fail(error)
    if output == "json":
        typer.echo(json.dumps({"filters": scope.read().model_dump(mode="json"),
                               "district": district.model_dump(mode="json"),
                               "schools": [row.model_dump(mode="json") for row in schools]}, ensure_ascii=False))
    elif output == "csv":
        sys.stdout.write(stats_export.schools_csv(scope.read(), schools, language))
    else:
        _print_participation(scope, district, schools)


def _print_participation(scope: stats.Scope, district: Any, schools: list[Any]) -> None:
    from rich.table import Table
    out = Console()
    days, share = stats_export.days, stats_export.share
    semester, pending = scope.semester, district.reviews_pending
    out.print(f"[bold]{semester.code}[/bold] ({semester.starts_at:%Y-%m-%d %H:%M}Z – "
              f"{semester.ends_at:%Y-%m-%d %H:%M}Z) stage={scope.stage or 'all'} subject={scope.subject or 'all'}")
    out.print(f"district: {district.schools} schools, {district.schools_publishing} publishing; "
              f"{district.publishing_teachers}/{district.teachers} teachers published "
              f"({share(district.publishing_share)}); {district.resources_published} resources published, "
              f"{district.resources_played} played, {district.plays} plays; {pending.count} reviews pending "
              f"(oldest {days(pending.oldest_age_s)} d, median {days(pending.median_age_s)} d); "
              f"{district.pairings} pairings of {district.paired_schools} schools (exchanges are not recorded yet)")
    table = Table("school", "teachers", "published by", "share", "resources", "played", "plays", "pending",
                  "oldest d", "median d", "paired with")
    for row in schools:
        table.add_row(row.school_name, str(row.teachers), str(row.publishing_teachers), share(row.publishing_share),
                      str(row.resources_published), str(row.resources_played), str(row.plays),
                      str(row.reviews_pending.count), days(row.reviews_pending.oldest_age_s),
                      days(row.reviews_pending.median_age_s), "、".join(p.school_name for p in row.pairings))
    out.print(table)
@app.command("platform-admin")
def grant_platform_admin(username: Annotated[str, typer.Argument()]) -> None:
    """Make an existing account a platform administrator (may import the shared taxonomy)."""
    with _session(writer=True) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            console.print(f"no account named {username}")
            raise typer.Exit(1)
        if Role.platform_admin not in user.roles:
            user.roles = [*user.roles, str(Role.platform_admin)]
            audit_service.record(session, actor_id=None, district_id=user.district_id, action="user.update",
                                 target_type="user", target_id=user.id, roles=user.roles)
            session.commit()
    console.print(f"{username} is a platform administrator")


keys_app = typer.Typer(help="Signing keys derived from LB_SECRET_KEY.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("search-principal")
def keys_search_principal() -> None:
    """Print the search service's key (LB_SEARCH_PRINCIPAL_KEY), derived from LB_SECRET_KEY; give the
    search service this instead of the master secret."""
    typer.echo(Settings.from_env().search_principal_key.decode())
pairing_app = typer.Typer(help="Paired schools (结对帮扶).", no_args_is_help=True)
app.add_typer(pairing_app, name="pairing")


@pairing_app.command("report")
def pairing_report(semester: Annotated[str, typer.Option(help="e.g. 2026-fall or 2027-spring")],
                   pairing: Annotated[str | None, typer.Option(help="One pair's report; default: every pair")] = None,
                   output: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table") -> None:
    """A semester's exchanges against the goal, minutes watched by the assisted school, resources
    shared and used: one pair, or every pair (at risk and below goal marked)."""
    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("table, csv or json", param_hint="--format")
    with _session() as session:
        try:
            if pairing:
                result = pairing_reports.pair_report(session, actor=None, pairing_id=pairing, semester=semester,
                                                     as_of=utcnow())
            else:
                district = pairing_reports.district_report(session, actor=None, semester=semester, as_of=utcnow())
        except DomainError as error:
            _fail(error)
            return
    if output == "json":
        typer.echo((result if pairing else district).model_dump_json(indent=2))
    elif output == "csv":
        sys.stdout.buffer.write(printing.pair_csv(result) if pairing else printing.district_csv(district))
        sys.stdout.flush()
    else:
        table = Table(*printing.SUMMARY_COLUMNS, title=f"结对帮扶 {semester}")
        for row in ([result] if pairing else district.pairs):
            table.add_row(*(str(value) for value in printing.summary_row(row)))
        Console(width=240).print(table)


PackFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The pack file (.zip).")]
PublicKeyOption = Annotated[str | None, typer.Option(
    "--public-key", help="The platform's pack key (base64, from GET /api/v1/packs/public-key): verify offline.")]
ApiOption = Annotated[str | None, typer.Option(
    "--api", help="The platform's address (https://...): fetch its pack key from there.")]


def _pack_key(public_key: str | None, api: str | None) -> pack_signing.Ed25519PublicKey:
    """The key given, or fetched from the platform, or (on the platform itself) derived from its secret."""
    try:
        if public_key is None and api is not None:
            response = httpx.get(f"{api.rstrip('/')}/api/v1/packs/public-key", timeout=30, follow_redirects=True)
            response.raise_for_status()
            public_key = response.json()["public_key"]
        if public_key is not None:
            return pack_signing.load_public_key(public_key)
    except (ValueError, KeyError, httpx.HTTPError) as error:
        console.print(f"[red]no usable pack key[/red]: {error}")
        raise typer.Exit(2) from None
    return pack_signing.pack_signing_key(Settings.from_env().secret_key).public_key()


@pack_app.command("verify")
def pack_verify(file: PackFile, public_key: PublicKeyOption = None, api: ApiOption = None) -> None:
    """Check a pack's signature and every member's size and sha256; exit 1 naming the first problem."""
    try:
        manifest = packs.verify_pack(file, public_key=_pack_key(public_key, api))
    except packs.BadPack as error:
        console.print(f"[red]bad pack[/red]: {error}")
        raise typer.Exit(1) from None
    typer.echo(f"pack intact: {manifest.title} ({manifest.id}), {len(manifest.resources)} resources, "
               f"{len(manifest.members())} files, signed by key {manifest.key_id}")


@pack_app.command("import")
def pack_import(file: PackFile, into: Annotated[Path, typer.Option(
        "--into", file_okay=False, help="The edge's cache directory.")], public_key: PublicKeyOption = None,
                api: ApiOption = None,
                warm: Annotated[bool, typer.Option(
                    "--warm", help="Also lay out each lesson as HLS in DIR/hls, where a school edge looks before "
                                   "its link (LB_EDGE_WARM_ROOT, infra/edge.sh); needs ffmpeg.")] = False) -> None:
    """Verify a pack, then unpack it into an edge's cache directory: all of it, or nothing."""
    try:
        report = packs.import_pack(file, into=into, public_key=_pack_key(public_key, api))
    except packs.BadPack as error:
        console.print(f"[red]bad pack, nothing imported[/red]: {error}")
        raise typer.Exit(1) from None
    typer.echo(f"imported {report.manifest.title} ({report.manifest.id}): {len(report.manifest.resources)} resources, "
               f"{report.blobs_written} files written, {report.blobs_present} already cached")
    if warm:
        from services.api.packs import warm as edge_warm
        try:
            warmed = edge_warm.warm_lessons(into, manifest=report.manifest)
        except packs.BadPack as error:
            console.print(f"[red]imported, but the edge is not warmed[/red]: {error}")
            raise typer.Exit(1) from None
        typer.echo(f"edge warmed: {warmed.lessons_laid_out} lessons laid out as HLS in {into / edge_warm.WARM_DIR}, "
                   f"{warmed.lessons_present} already there")


region_app = typer.Typer(help="Cities and provinces above the districts (campaign levels).", no_args_is_help=True)
app.add_typer(region_app, name="region")


@region_app.command("create")
def region_create(name: Annotated[str, typer.Option()], kind: Annotated[str, typer.Option(help="city or province")],
                  parent_id: Annotated[str | None, typer.Option(help="A city's province.")] = None) -> None:
    from services.api.regions import service as regions
    from services.api.orgs.models import RegionKind
    with _session(writer=True) as session:
        try:
            region = regions.create_region(session, name=name, kind=RegionKind(kind), parent_id=parent_id)
            session.commit()
        except DomainError as error:
            _fail(error)
        typer.echo(region.id)


@region_app.command("attach-district")
def region_attach_district(district_id: Annotated[str, typer.Option()],
                           region_id: Annotated[str, typer.Option()]) -> None:
    from services.api.regions import service as regions
    with _session(writer=True) as session:
        try:
            regions.attach_district(session, district_id=district_id, region_id=region_id)
            session.commit()
        except DomainError as error:
            _fail(error)


@region_app.command("appoint-admin")
def region_appoint_admin(user_id: Annotated[str, typer.Option()], region_id: Annotated[str, typer.Option()]) -> None:
    """Gives a user city_admin or province_admin (by the region's kind) over the region."""
    from services.api.regions import service as regions
    with _session(writer=True) as session:
        try:
            user = regions.appoint_admin(session, user_id=user_id, region_id=region_id)
            session.commit()
        except DomainError as error:
            _fail(error)
        typer.echo(" ".join(user.roles))


if __name__ == "__main__":
    app()
