"""The HTTP service: ``tqcheck serve`` (``tqcheck.serve.app``) and its micro-batcher
(``tqcheck.serve.batcher``). Needs the ``serve`` extra (FastAPI, uvicorn)."""
