"""``tqcheck serve``: the response is the JSONL report of the request's segments; limits answer at once
(413, 422, 429, 503 with Retry-After), never by a hang; the token; readiness after warm-up; micro-batches;
the review store; one JSON log line per request; and a real uvicorn process on loopback."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tqcheck.config import CheckConfig
from tqcheck.io.frames import segments_from_records
from tqcheck.pipeline import Pipeline
from tqcheck.run import Checker

pytest.importorskip("fastapi", reason="needs the serve extra (pip install 'tqcheck[serve]'; scripts/setup.sh)")

from fastapi.testclient import TestClient  # noqa: E402 - after the skip

from tqcheck.serve.app import create_app  # noqa: E402

RULES = CheckConfig().with_rules_only()
RECORDS = [
    {"id": "n1", "source": "Plus de 3 000 manifestants.", "mt": "More than 300 protesters.", "client": "afp"},
    {"id": "n2", "source": "Le maire a répondu à @JeanDupont75.", "mt": "The mayor replied to @ JeanDupont75."},
    {"src": "Le chat dort.", "hyp": "The cat sleeps.", "reference": "The cat is asleep."},  # a feed's aliases
]
TOKEN = {"Authorization": "Bearer s3cret"}


class GatedPipeline(Pipeline):
    """A real pipeline that holds each pass until the test opens the gate (our own class, not a patch)."""

    def __init__(self, config: CheckConfig) -> None:
        super().__init__(config)
        self.entered, self.gate = threading.Event(), threading.Event()

    def run(self, segments, *, progress=None):
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        yield from super().run(segments, progress=progress)


class SlowWarmPipeline(Pipeline):
    """Loads its calibration only once the test says so: the service is not ready before."""

    def __init__(self, config: CheckConfig) -> None:
        super().__init__(config)
        self.gate = threading.Event()

    @property
    def fusion(self):
        assert self.gate.wait(30)
        return Pipeline.fusion.fget(self)


def ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.05)


@pytest.fixture
def client():
    with TestClient(create_app(RULES, token="s3cret")) as test_client:
        ready(test_client)
        yield test_client


def test_the_response_is_the_report_of_the_segments(client):
    response = client.post("/v1/check", json={"segments": RECORDS, "language_pair": "fr-en"}, headers=TOKEN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"signature", "results", "summary", "skipped"}
    results, outcome = Checker(RULES).results(segments_from_records(RECORDS, name="segments"),
                                              source_lang="fr", target_lang="en")
    assert body["results"] == json.loads(json.dumps([r.to_dict() for r in results]))
    assert body["summary"] == outcome.summary.to_dict()
    assert body["results"][0]["segment"]["metadata"] == {"fields": {"client": "afp"}}
    assert body["results"][2]["segment"]["id"] == "3" and body["summary"]["corpus_metrics"]  # a reference
    signature = body["signature"]
    assert signature["config_hash"] == outcome.signature.config_hash
    assert signature["calibration"] == outcome.signature.calibration and signature["language_pairs"] == ["fr-en"]
    assert response.headers["x-request-id"]


def test_per_record_languages_and_bad_records_as_in_a_feed(client):
    records = [{"id": "a", "source": "x"}, {**RECORDS[0], "source_lang": "fr", "target_lang": "en"}]
    body = client.post("/v1/check", json={"segments": records}, headers=TOKEN).json()
    assert [r["segment"]["id"] for r in body["results"]] == ["n1"]
    assert body["summary"]["skipped_records"] == 1 and body["skipped"][0]["where"] == "segments:1"


@pytest.mark.parametrize("payload, message", [
    ({"segments": []}, "no segments"),
    ({"segments": RECORDS, "language_pair": "french"}, "not a language pair"),
    ({"segments": RECORDS, "source_lang": "French"}, "language name"),
    ({"segments": [{"id": "a", "source": "x"}], "language_pair": "fr-en"}, "no record could be read"),
])
def test_a_request_that_cannot_be_checked_is_422_saying_why(client, payload, message):
    response = client.post("/v1/check", json=payload, headers=TOKEN)
    assert response.status_code == 422 and message in response.json()["detail"], response.text


def test_too_many_segments_or_too_large_a_body_is_413():
    with TestClient(create_app(RULES, max_segments=2, max_body=4000)) as client:
        ready(client)
        response = client.post("/v1/check", json={"segments": RECORDS, "language_pair": "fr-en"})
        assert response.status_code == 413
        assert response.json()["detail"] == "3 segments in one request; the limit is 2: split the request"
        big = {"segments": [{"source": "x" * 3000, "mt": "y" * 3000}], "language_pair": "fr-en"}
        response = client.post("/v1/check", json=big)
        assert response.status_code == 413 and "over 4000 bytes" in response.json()["detail"]
        chunked = client.post("/v1/check", content=iter([json.dumps(big).encode()]),
                              headers={"content-type": "application/json"})  # no Content-Length
        assert chunked.status_code == 413


def test_a_full_queue_is_429_with_retry_after_and_the_waiting_request_still_served():
    pipeline = GatedPipeline(RULES)
    with TestClient(create_app(RULES, max_queue=1, pipeline=pipeline)) as client:
        ready(client)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(client.post, "/v1/check", json={"segments": RECORDS[:1], "language_pair": "fr-en"})
            assert pipeline.entered.wait(10)
            refused = client.post("/v1/check", json={"segments": RECORDS[:1], "language_pair": "fr-en"})
            assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
            assert "requests are waiting" in refused.json()["detail"]
            pipeline.gate.set()
            assert first.result(30).status_code == 200
        assert client.post("/v1/check", json={"segments": RECORDS[:1], "language_pair": "fr-en"}).status_code == 200


def test_a_request_not_checked_in_time_is_503_not_a_hang():
    pipeline = GatedPipeline(RULES)
    with TestClient(create_app(RULES, timeout=0.3, pipeline=pipeline)) as client:
        ready(client)
        response = client.post("/v1/check", json={"segments": RECORDS[:1], "language_pair": "fr-en"})
        pipeline.gate.set()
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert "not checked within 0.3 s" in response.json()["detail"]


def test_concurrent_requests_share_a_pipeline_batch():
    pipeline = GatedPipeline(RULES)
    app = create_app(RULES, pipeline=pipeline)
    with TestClient(app) as client:
        ready(client)
        post = {"json": {"segments": RECORDS[:2], "language_pair": "fr-en"}}
        with ThreadPoolExecutor(4) as pool:
            first = pool.submit(client.post, "/v1/check", **post)
            assert pipeline.entered.wait(10)
            others = [pool.submit(client.post, "/v1/check", **post) for _ in range(3)]
            deadline = time.monotonic() + 10
            while app.state.batcher.waiting < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            pipeline.gate.set()
            bodies = [f.result(30).json() for f in [first, *others]]
        assert app.state.batcher.batches == 2  # the three waiting requests went through in one pass
        assert all(b["results"] == bodies[0]["results"] for b in bodies)


def test_the_token_guards_the_api_not_the_probes(client):
    post = {"json": {"segments": RECORDS[:1], "language_pair": "fr-en"}}
    assert client.post("/v1/check", **post).status_code == 401
    wrong = client.post("/v1/check", headers={"Authorization": "Bearer nope"}, **post)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/engines").status_code == 401
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/v1/check"]["post"]
    assert client.get("/docs").status_code == 200


def test_engines_lists_configured_loaded_and_installed(client):
    body = client.get("/v1/engines", headers=TOKEN).json()
    assert body["configured"]["back_translator"] == "none" and body["loaded"] == []
    assert body["calibration"].startswith("default-") and body["ready"] is True
    assert {row["role"] for row in body["installed"]} >= {"translator", "lm"}


def test_ready_only_after_the_calibration_is_loaded_and_not_after_a_failed_warm_up(tmp_path):
    pipeline = SlowWarmPipeline(RULES)
    with TestClient(create_app(RULES, pipeline=pipeline)) as client:
        assert client.get("/healthz").status_code == 200
        loading = client.get("/readyz")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        pipeline.gate.set()
        ready(client)
        assert client.get("/readyz").json()["calibration"].startswith("default-")
    broken = CheckConfig(calibration=str(tmp_path / "missing.json")).with_rules_only()
    with TestClient(create_app(broken)) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        failed = client.get("/readyz")
        assert failed.status_code == 503 and failed.json()["status"] == "failed"
        response = client.post("/v1/check", json={"segments": RECORDS[:1], "language_pair": "fr-en"})
        assert response.status_code == 503 and "could not load" in response.json()["detail"]


def test_each_request_is_a_run_in_the_review_store(tmp_path):
    from tqcheck.store import Store

    store = Store.open(tmp_path / "review.sqlite")
    with TestClient(create_app(RULES, store=store)) as client:
        ready(client)
        for _ in range(2):
            assert client.post("/v1/check", json={"segments": RECORDS, "language_pair": "fr-en"}).status_code == 200
    runs = store.runs()
    assert len(runs) == 2 and all(run.segment_count == 3 and run.summary is not None for run in runs)
    assert all(run.name.startswith("serve ") for run in runs)
    store.close()


def test_one_json_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="tqcheck.serve"):
        client.post("/v1/check", json={"segments": RECORDS, "language_pair": "fr-en"}, headers=TOKEN)
        client.get("/v1/engines")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tqcheck.serve"]
    assert [(x["method"], x["path"], x["status"], x["segments"]) for x in lines] == [
        ("POST", "/v1/check", 200, 3), ("GET", "/v1/engines", 401, None)]
    assert all(x["ms"] >= 0 and x["request_id"] for x in lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_server_on_loopback_answers_concurrent_requests(tmp_path):
    import httpx

    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "tqcheck", "serve", "--port", str(port), "--rules-only"],
                              stdout=log, stderr=subprocess.STDOUT,
                              env={k: v for k, v in os.environ.items() if k != "TQCHECK_TOKEN"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, Path(log.name).read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as http, ThreadPoolExecutor(8) as pool:
            def one(i: int) -> httpx.Response:
                segments = [{**RECORDS[0], "id": f"r{i}-{k}"} for k in range(1 + i % 5)]
                return http.post("/v1/check", json={"segments": segments, "language_pair": "fr-en"})

            responses = list(pool.map(one, range(16)))
        assert [r.status_code for r in responses] == [200] * 16
        assert [len(r.json()["results"]) for r in responses] == [1 + i % 5 for i in range(16)]
        assert responses[3].json()["results"][2]["segment"]["id"] == "r3-2"
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    logged = [json.loads(line) for line in Path(log.name).read_text().splitlines() if line.startswith("{")]
    assert sum(1 for x in logged if x["path"] == "/v1/check" and x["status"] == 200) == 16
