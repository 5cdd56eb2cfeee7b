"""A client of ``tqcheck serve``, with httpx: check segments, print the flags, retry when told to.

    tqcheck serve --rules-only --port 8000 &            # or with engines: tqcheck serve --warm fr-en
    python docs/client_example.py                       # TQCHECK_URL, TQCHECK_TOKEN if the server has one
"""

from __future__ import annotations

import os
import time

import httpx

URL = os.environ.get("TQCHECK_URL", "http://127.0.0.1:8000")
TOKEN = os.environ.get("TQCHECK_TOKEN")


def check(client: httpx.Client, segments: list[dict], **languages: str) -> dict:
    """POST /v1/check; a 429 or 503 is retried after the Retry-After the server gives."""
    for _ in range(5):
        response = client.post("/v1/check", json={"segments": segments, **languages})
        if response.status_code in (429, 503):
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        if response.status_code != 200:  # 401 token, 413 too large, 422 cannot be checked: the detail says why
            raise SystemExit(f"HTTP {response.status_code}: {response.json()['detail']}")
        return response.json()
    raise SystemExit("the service stayed busy")


def main() -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}
    with httpx.Client(base_url=URL, headers=headers, timeout=120) as client:
        client.get("/readyz").raise_for_status()  # 200 once the engines are loaded
        report = check(client, [
            {"id": "n1", "source": "Plus de 3 000 manifestants.", "mt": "More than 300 protesters."},
            {"id": "n2", "source": "Le maire a répondu à @JeanDupont75.", "mt": "The mayor replied to @ JeanDupont75."},
        ], language_pair="fr-en")
    for result in report["results"]:  # the JSONL report's results, in input order
        mt = result["segment"]["mt"]
        for flag in result["flags"]:
            if flag["hint"]:
                continue  # below the display floor
            span = flag["span"]
            where = repr(mt[span["start"]:span["end"]]) if span else "(segment)"
            print(f"{result['segment']['id']}: {flag['severity']} {flag['check']} {where}: {flag['message']}")
    print("summary:", report["summary"]["segments"], "segments,", report["summary"]["flagged"], "flagged")
    print("engines:", [e["name"] for e in report["signature"]["engines"]] or "rules only")


if __name__ == "__main__":
    main()
