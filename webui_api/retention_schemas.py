"""Request and response bodies of `/api/v1/erasures` and `/api/v1/campaigns/{id}/retention`."""

from __future__ import annotations

from pydantic import BaseModel, Field

from webui_api.schemas import Body


class ErasureCreate(Body):
    person: str = Field(
        min_length=1,
        max_length=64,
        description="A Telegram user id (digits) or a username (`@` optional)",
    )


class ErasureOut(BaseModel):
    """What was removed. The person's invite attempts stay with their id blanked (they are
    the accounts' quotas); one opt-out entry keeps them from being invited again."""

    people: int = Field(
        description="Telegram ids the person stood for in this workspace (0: username only)"
    )
    opted_out: bool = Field(
        description="Whether an opt-out entry now keeps them from every campaign"
    )
    removed: dict[str, int] = Field(
        description="Rows per table: removed, or made anonymous (invite_events)"
    )
    total: int = Field(description="Rows removed, anonymised attempts and the opt-out left out")


class RetentionFigures(BaseModel):
    added: int = Field(description="People the campaign added to the chat")
    stayed_day: int = Field(description="Still members a day after the invite")
    left_day: int = Field(description="Gone at the day's check")
    pending_day: int = Field(description="Not checked for the day yet")
    stayed_week: int = Field(description="Still members a week after the invite")
    left_week: int = Field(description="Gone by the week's check (those gone at the day's too)")
    pending_week: int = Field(description="Not checked for the week yet")


class AudienceRetentionOut(BaseModel):
    audience_id: int | None = Field(description="The source audience; null once it was deleted")
    name: str | None
    figures: RetentionFigures


class CampaignRetentionOut(BaseModel):
    campaign_id: int
    figures: RetentionFigures
    audiences: list[AudienceRetentionOut]
