"""Prometheus metrics of one service app (prometheus-client), exposed at /metrics.

- Requests by method, route template and status, and latency by route template. The route is the template
  (`/v1/crm/{crm}/review`), never the raw path, and a method outside HTTP's usual few is `other`: a label
  with unbounded values would grow the metrics without end.
- Findings in every report answered, by rule code; gate answers by outcome (allowed / blocked).
- Each app has its own registry, so several apps in one process (the tests) never collide. With several
  worker processes (`dealcoach serve --workers N`), prometheus-client's multiprocess mode applies: every
  process writes its values to files in PROMETHEUS_MULTIPROC_DIR (set before prometheus-client is first
  imported, as serve does for its workers) and /metrics adds up every process's files, whichever worker answers.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a path that names no route (a 404)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    """The service's counters and histogram, and their exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_VARIABLE) or None
        self.requests = Counter(
            "dealcoach_http_requests", "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"), registry=self.registry,
        )
        self.latency = Histogram(
            "dealcoach_http_request_duration_seconds", "Time to answer a request, by route template.",
            ("route",), buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.findings = Counter("dealcoach_findings", "Findings in the reports answered, by rule code.", ("code",), registry=self.registry)
        self.gates = Counter("dealcoach_gate_decisions", "Gate answers, by outcome.", ("outcome",), registry=self.registry)
        self._children: dict[tuple, Any] = {}  # (metric, labels...) -> its child: labels() validates and locks every call

    def _child(self, metric, *labels: str):
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._child(self.requests, method if method in METHODS else "other", route, str(status)).inc()
        self._child(self.latency, route).observe(seconds)

    def observe_answer(self, answer: dict[str, Any]) -> None:
        """Count a decision's findings and gate outcome (`answer`: what the endpoint answers besides its ids)."""
        reports = []
        gate = answer.get("gate")
        if gate is not None:
            self._child(self.gates, "allowed" if gate.allowed else "blocked").inc()
            reports.append(gate.report)
        if answer.get("report") is not None:
            reports.append(answer["report"])
        reports += [item.report for item in answer.get("results") or () if item.report is not None]
        for code, count in Tally(finding.code for report in reports for finding in report.findings).items():
            self._child(self.findings, code).inc(count)

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format: this process's, or every worker's in multiprocess mode."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        gathered = CollectorRegistry()
        MultiProcessCollector(gathered, path=self.multiprocess_dir)
        return generate_latest(gathered)
