from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from billstream.core.inputs import Input


class ApiKeyCreate(Input):
    tenant_id: str | None = Field(default=None, description="Default: the calling key's tenant")
    name: str = Field(min_length=1, max_length=200)
    include_descendants: bool = False


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    name: str
    include_descendants: bool
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="Shown once; only a hash of it is stored")
