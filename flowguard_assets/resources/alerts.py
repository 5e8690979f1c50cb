"""Alerts that reach people outside the UI: a Slack-compatible webhook, and the log."""

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field


@dataclass(frozen=True)
class Alert:
    """One failure worth a person's attention."""

    title: str
    detail: str
    severity: str
    run_url: str
    asset: str | None = None
    partition: str | None = None
    check: str | None = None

    @property
    def text(self) -> str:
        where = " ".join(
            part
            for part in (
                f"check `{self.check}`" if self.check else "",
                f"on `{self.asset}`" if self.asset else "",
                f"partition {self.partition}" if self.partition else "",
            )
            if part
        )
        return f"[{self.severity}] {self.title}{': ' + where if where else ''} - {self.detail} ({self.run_url})"

    def slack_payload(self) -> dict:
        """Slack incoming-webhook JSON: `text` for any receiver, `blocks` for Slack."""
        fields = [
            ("Asset", self.asset),
            ("Partition", self.partition),
            ("Check", self.check),
            ("Severity", self.severity),
        ]
        return {
            "text": self.text,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title}},
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{label}*\n{value}"}
                        for label, value in fields
                        if value
                    ],
                },
                {"type": "section", "text": {"type": "mrkdwn", "text": self.detail}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"<{self.run_url}|Open the run in Dagster>"},
                },
            ],
        }


class AlertWebhookResource(dg.ConfigurableResource):
    """Posts alerts to FLOWGUARD_ALERT_WEBHOOK_URL (a secret: never logged), retrying with backoff."""

    url: str | None = Field(default=None, description="FLOWGUARD_ALERT_WEBHOOK_URL")
    ui_url: str = Field(default="http://127.0.0.1:3000", description="links in alerts (FLOWGUARD_UI_URL)")
    attempts: int = Field(default=3, description="tries per alert before giving up")
    backoff_seconds: float = Field(default=1.0, description="first wait between tries; doubles")
    timeout_seconds: float = Field(default=5.0, description="per request")

    @property
    def destination(self) -> str:
        """The webhook's host, safe to log (the path holds the token)."""
        return urlsplit(self.url).netloc if self.url else "no webhook"

    def send(
        self, alert: Alert, log: logging.Logger | dg.DagsterLogManager, *, post: bool = True
    ) -> bool:
        """Log `alert` and (when `post`) post it; False when not posted."""
        log.warning(f"FlowGuard alert {alert.text}")
        if not (self.url and post):
            return False
        body = json.dumps(alert.slack_payload()).encode("utf-8")
        reason = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            request = urllib.request.Request(
                self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds):
                    return True
            except urllib.error.HTTPError as error:
                reason = f"HTTP {error.code}"
            except (urllib.error.URLError, OSError) as error:
                reason = str(getattr(error, "reason", error))
        log.error(
            f"Alert webhook at {self.destination} failed after {self.attempts} tries: {reason}"
        )
        return False
