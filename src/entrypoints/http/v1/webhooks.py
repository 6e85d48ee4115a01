"""/api/v1/webhooks: subscriptions, secret rotation, the delivery log, redelivery."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, QueryParameter

from application.webhooks import (
    DeleteSubscriptionHandler,
    GetSubscriptionHandler,
    ListDeliveriesHandler,
    ListSubscriptionsHandler,
    RedeliverHandler,
    RotateSecretHandler,
    Subscribe,
    SubscribeHandler,
)
from entrypoints.http.problems import (
    UNAUTHORIZED,
    UNAVAILABLE,
    UNPROCESSABLE,
    WEBHOOK_CONFLICT,
    WEBHOOK_NOT_FOUND,
)
from entrypoints.http.webhook_schemas import (
    DeliveryOut,
    DeliveryPage,
    RotatedSecret,
    SubscribeBody,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionOut,
)

_SUBSCRIBE_EXAMPLE = Example(
    summary="Bookings and cancellations",
    value={
        "url": "https://hooks.example.com/frontdesk",
        "events": ["appointment.booked", "appointment.cancelled"],
        "description": "CRM sync",
    },
)
_CLOSED = {"additional_properties": False}


class WebhooksController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        status_code=201,
        operation_id="createWebhook",
        summary="Subscribe a URL to events",
        description=(
            "Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
            "`webhook-signature`) with the returned `secret`, shown only here."
        ),
        responses={**UNAUTHORIZED, **UNPROCESSABLE, **UNAVAILABLE},
    )
    async def subscribe(
        self,
        data: Annotated[SubscribeBody, Body(examples=[_SUBSCRIBE_EXAMPLE], schema_extra=_CLOSED)],
        subscribe_webhook: NamedDependency[SubscribeHandler],
    ) -> Response[SubscriptionCreated]:
        subscription = await subscribe_webhook(
            Subscribe(
                url=data.url,
                events=[e.value for e in data.events],
                description=data.description,
            )
        )
        return Response(
            SubscriptionCreated.of(subscription),
            status_code=201,
            headers={"Location": f"/api/v1/webhooks/{subscription.id}"},
        )

    @get(
        "/",
        operation_id="listWebhooks",
        summary="Every subscription, oldest first",
        responses={**UNAUTHORIZED, **UNAVAILABLE},
    )
    async def list_webhooks(
        self, list_webhooks: NamedDependency[ListSubscriptionsHandler]
    ) -> SubscriptionList:
        return SubscriptionList(items=[SubscriptionOut.of(s) for s in await list_webhooks()])

    @get(
        "/{webhook_id:uuid}",
        operation_id="getWebhook",
        summary="One subscription (never its secret)",
        responses={**UNAUTHORIZED, **WEBHOOK_NOT_FOUND, **UNAVAILABLE},
    )
    async def get_webhook(
        self, webhook_id: FromPath[UUID], get_webhook: NamedDependency[GetSubscriptionHandler]
    ) -> SubscriptionOut:
        return SubscriptionOut.of(await get_webhook(webhook_id))

    @delete(
        "/{webhook_id:uuid}",
        status_code=204,
        operation_id="deleteWebhook",
        summary="Unsubscribe; the delivery log goes with it",
        responses={**UNAUTHORIZED, **WEBHOOK_NOT_FOUND, **UNAVAILABLE},
    )
    async def delete_webhook(
        self,
        webhook_id: FromPath[UUID],
        delete_webhook: NamedDependency[DeleteSubscriptionHandler],
    ) -> None:
        await delete_webhook(webhook_id)

    @post(
        "/{webhook_id:uuid}/rotate-secret",
        status_code=200,
        operation_id="rotateWebhookSecret",
        summary="A new secret; the old one keeps signing for 24 h",
        description="Until `previous_secret_expires_at`, `webhook-signature` carries two "
        "signatures, one per secret.",
        responses={**UNAUTHORIZED, **WEBHOOK_NOT_FOUND, **UNAVAILABLE},
    )
    async def rotate_secret(
        self,
        webhook_id: FromPath[UUID],
        rotate_webhook_secret: NamedDependency[RotateSecretHandler],
    ) -> RotatedSecret:
        rotated = await rotate_webhook_secret(webhook_id)
        assert rotated.previous_secret_expires_at is not None
        return RotatedSecret(
            id=rotated.id,
            secret=rotated.secret.value,
            previous_secret_expires_at=rotated.previous_secret_expires_at,
        )

    @get(
        "/{webhook_id:uuid}/deliveries",
        operation_id="listWebhookDeliveries",
        summary="Deliveries, newest first, with every attempt",
        responses={**UNAUTHORIZED, **WEBHOOK_NOT_FOUND, **UNAVAILABLE},
    )
    async def deliveries(
        self,
        webhook_id: FromPath[UUID],
        list_webhook_deliveries: NamedDependency[ListDeliveriesHandler],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> DeliveryPage:
        page = await list_webhook_deliveries(webhook_id, limit=limit, offset=offset)
        return DeliveryPage(
            items=[DeliveryOut.of(d) for d in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/redeliver",
        status_code=202,
        operation_id="redeliverWebhook",
        summary="Send a delivery again now, with a fresh retry schedule",
        description="The same `webhook-id` is sent; receivers deduplicate on it.",
        responses={**UNAUTHORIZED, **WEBHOOK_NOT_FOUND, **WEBHOOK_CONFLICT, **UNAVAILABLE},
    )
    async def redeliver(
        self,
        webhook_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        redeliver_webhook: NamedDependency[RedeliverHandler],
    ) -> DeliveryOut:
        return DeliveryOut.of(await redeliver_webhook(webhook_id, delivery_id))
