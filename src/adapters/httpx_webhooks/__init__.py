"""Webhook delivery over HTTP with httpx, guarded against server-side request forgery."""

from adapters.httpx_webhooks.sender import HttpxWebhookSender, Resolver, system_resolver

__all__ = ["HttpxWebhookSender", "Resolver", "system_resolver"]
