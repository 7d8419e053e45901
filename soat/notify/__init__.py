"""E-mail digests (`soat notify`, the admin page "Thư nhắc"): compose each recipient's
digest of late and missing items and new findings (soat.notify.digest), send it over SMTP
or write it to a `.eml` file (soat.notify.mailer), record what went to whom
(soat.notify.ledger) and audit every message. See docs/outreach.md.

    outcomes, warnings = send(con, snapshot)                  # SMTP from $SOAT_SMTP_URL
    outcomes, warnings = send(con, snapshot, dry_run_dir="out/")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from soat import audit
from soat.appdb import AppDB
from soat.errors import SoatError
from soat.notify import ledger, settings
from soat.notify.digest import Digest, compose, message
from soat.notify.mailer import FileTransport, SmtpTransport, error_text

SENT, WRITTEN, NOTHING, FAILED = "sent", "written", "nothing", "failed"
STATUS_VI = {
    SENT: "Đã gửi",
    WRITTEN: "Đã ghi tệp (chạy thử)",
    NOTHING: "Không có gì mới",
    FAILED: "Lỗi",
}


@dataclass
class Outcome:
    digest: Digest
    status: str
    detail: str = ""
    file: Path | None = None


def preview(
    con: duckdb.DuckDBPyConnection,
    snapshot: dict,
    *,
    unit: str | None = None,
    interval: int | None = None,
    base: str | None = None,
    now: dt.datetime | None = None,
    app_db: AppDB | str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Digest], list[str]]:
    """Every recipient's digest as it would go now (nothing sent, nothing recorded)."""
    return compose(
        con,
        snapshot,
        unit=unit,
        interval=settings.interval_days(env, interval),
        base=settings.base_url(env, base),
        now=now,
        app_db=app_db,
    )


def deliver(
    digests: list[Digest],
    *,
    dry_run_dir: str | Path | None = None,
    actor: str = "local",
    now: dt.datetime | None = None,
    app_db: AppDB | str | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Send (or, with dry_run_dir, write) the non-empty digests. A sent message's items are
    recorded for its address; every message is audited (`notify`, or `notify_dry_run`).
    A server that cannot be reached or refuses the login raises SoatError before anything
    is sent; a message the server refuses is reported and the others still go."""
    outcomes = [Outcome(d, NOTHING) for d in digests if d.empty]
    todo = [d for d in digests if not d.empty]
    if not todo:
        return outcomes
    if dry_run_dir is not None:
        try:
            sender = settings.sender(env)
        except SoatError:
            sender = settings.DRY_RUN_SENDER
        transport: FileTransport | SmtpTransport = FileTransport(dry_run_dir)
        server = None
    else:
        smtp = settings.smtp_settings(env)
        sender, server = smtp.sender, smtp
        transport = SmtpTransport(smtp)
    with transport as t:
        for i, d in enumerate(todo, start=1):
            msg = message(d, sender)
            detail = {
                "to": d.recipient.address,
                "recipient": d.recipient.username or d.recipient.label,
                "snapshot": d.snapshot["snapshot_id"],
                "subject": d.subject,
                "submissions": d.submissions.height,
                "findings": d.findings.height,
                "attachments": d.attachment_names,
            }
            try:
                t.send(msg)
            except Exception as exc:  # noqa: BLE001 - one refused message, the others go on
                text = error_text(exc, server) if server else f"không ghi được tệp: {exc}"
                outcomes.append(Outcome(d, FAILED, text))
                continue
            if server is None:
                path = transport.written[-1]  # type: ignore[union-attr]
                detail["file"] = str(path)
                audit.record("notify_dry_run", actor, detail, rows=len(d.item_keys), app_db=app_db)
                outcomes.append(Outcome(d, WRITTEN, str(path), path))
            else:
                # the message has gone: a ledger or audit write that fails now is told for
                # this message, and the others still go (it once stopped the run, leaving a
                # sent message unrecorded and the rest unsent)
                notes = []
                try:
                    ledger.record(
                        d.recipient.address,
                        d.item_keys,
                        d.snapshot["snapshot_id"],
                        msg["Message-ID"],
                        now=now,
                        app_db=app_db,
                    )
                except Exception as exc:  # noqa: BLE001
                    notes.append(
                        f"không ghi được sổ nhắc ({exc}): lần chạy sau sẽ nhắc lại các mục này"
                    )
                detail["server"] = server.describe()
                try:
                    audit.record("notify", actor, detail, rows=len(d.item_keys), app_db=app_db)
                except Exception as exc:  # noqa: BLE001
                    notes.append(f"không ghi được nhật ký truy cập ({exc})")
                outcomes.append(Outcome(d, SENT, "; ".join(notes)))
            if progress:
                progress(i, len(todo))
    return outcomes


__all__ = ["Digest", "Outcome", "STATUS_VI", "deliver", "preview"]
