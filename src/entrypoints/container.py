"""The composition root: the only module that decides which adapter serves which port."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from dependency_injector import containers, providers

from adapters.argon2 import Argon2PasswordHasher
from adapters.deepgram import DeepgramOptions, DeepgramVoiceAgent
from adapters.deepgram.speak import DeepgramSpeech
from adapters.file_cache import FileCachedSpeech
from adapters.httpx_webhooks import HttpxWebhookSender
from adapters.practice_file import PracticeFileError, load_practice
from adapters.scripted import ScriptedVoiceAgent, load_script
from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.sql.delivery_queue import SqlAlchemyDeliveryQueue
from adapters.sql.event_relay import PostgresEventRelay, asyncpg_dsn
from adapters.sql.outbound_log import SqlAlchemyOutboundLog
from adapters.sql.text_queue import SqlAlchemyTextQueue
from adapters.sql.webhook_subscriptions import SqlAlchemyWebhookSubscriptions
from adapters.system_clock import SystemClock
from adapters.telnyx_rest.messaging import TelnyxTextNotifier
from adapters.twilio_rest.messaging import TwilioTextNotifier
from application.calls.admission import (
    AdmitCallHandler,
    NextStepHandler,
    OpenStreamHandler,
    RecordCallStatusHandler,
    TurnAwayCallHandler,
)
from application.calls.agent_link import RecoveryLimits
from application.calls.answer import AnswerCall
from application.calls.briefing import BriefAgent
from application.calls.greeting_audio import GreetingAudio
from application.calls.limits import SessionLimits
from application.calls.records import (
    CarrierReferencesHandler,
    GetCallHandler,
    ListCallsHandler,
)
from application.calls.touched_appointments import TouchedAppointmentsHandler
from application.calls.warm_agents import WarmAgents
from application.notifications import ConfirmationTexts, RecordOptOutHandler, TextDispatcher
from application.notifications.outbound_history import OutboundHistoryHandler
from application.ports import Clock, Notifier, SpeechSynthesizer, VoiceAgent
from application.receptionist.tool_arguments import ARGUMENT_TYPES
from application.receptionist.tools import ReceptionistTools
from application.scheduling import (
    BookAppointmentHandler,
    CancelAppointmentHandler,
    FindAppointmentsHandler,
    FindOpenSlotsHandler,
    GetAppointmentHandler,
    RescheduleAppointmentHandler,
)
from application.scheduling.day_schedule import DayScheduleHandler
from application.staff.accounts import AddStaffHandler, ListStaffHandler, RemoveStaffHandler
from application.staff.sessions import ResumeSessionHandler, SessionPolicy, SignOutHandler
from application.staff.sign_in import SignInHandler
from application.webhooks import (
    DeleteSubscriptionHandler,
    DeliveryWakeUp,
    DispatchPolicy,
    GetSubscriptionHandler,
    ListDeliveriesHandler,
    ListSubscriptionsHandler,
    RedeliverHandler,
    RotateSecretHandler,
    SubscribeHandler,
    WebhookDispatcher,
)
from domain.scheduling import Practice
from domain.staff import LoginThrottle
from domain.webhooks import RetrySchedule
from entrypoints.http.call_event_broker import CallEventBroker
from entrypoints.http.capacity import CallCapacity
from entrypoints.http.relayed_feed import RelayedFeed, into_broker
from entrypoints.observability.call_summary import CallSummaryLog
from entrypoints.observability.fan_out import FanOut
from entrypoints.observability.metrics import CallMetrics
from entrypoints.settings import Settings

AGENT_PROVIDERS: Final = frozenset({"deepgram"})
"""Voice agent providers with an adapter; `VOICE_AGENT` picks one."""


def _deepgram_options(settings: Settings, practice: Practice) -> DeepgramOptions:
    """Checks the practice file's provider sections (`[receptionist.<provider>]`)
    against the adapters, and gives Deepgram's options."""
    sections = practice.receptionist.provider_options
    unknown = sorted(set(sections) - AGENT_PROVIDERS)
    if unknown:
        raise PracticeFileError(
            f"practice file: [receptionist.{unknown[0]}]: no voice agent provider called "
            f"{unknown[0]!r}; known: {sorted(AGENT_PROVIDERS)}"
        )
    defaults = DeepgramOptions(
        listen_model=settings.agent_listen_model,
        think_provider=settings.agent_think_provider,
        think_model=settings.agent_think_model,
        speak_model=settings.agent_speak_model,
    )
    try:
        return defaults.overridden_by(sections.get("deepgram", {}))
    except ValueError as exc:
        raise PracticeFileError(f"practice file: {exc}") from None


def _voice_agent(settings: Settings, practice: Practice, clock: Clock) -> VoiceAgent:
    """The one place that picks the voice agent's adapter (and checks the practice
    file's provider sections against the adapters, whichever is chosen)."""
    options = _deepgram_options(settings, practice)
    if settings.voice_agent == "scripted":
        script = load_script(settings.agent_script, frozenset(ARGUMENT_TYPES))
        return ScriptedVoiceAgent(
            script, practice=practice, clock=clock, pause_s=settings.agent_script_pause_s
        )
    # A further provider adds a branch here and nowhere else.
    key = settings.deepgram_api_key.get_secret_value() if settings.deepgram_api_key else ""
    return DeepgramVoiceAgent(
        settings.deepgram_agent_url,
        key,
        options=options,
        connect_timeout_s=settings.deepgram_connect_timeout_s,
    )


def _event_relay(settings: Settings, broker: CallEventBroker) -> PostgresEventRelay | None:
    if settings.embedded_database:
        return None
    return PostgresEventRelay(asyncpg_dsn(settings.resolved_database_url()), into_broker(broker))


def _call_observer(
    broker: CallEventBroker,
    metrics: CallMetrics,
    summary: CallSummaryLog,
    relay: PostgresEventRelay | None,
) -> FanOut:
    if relay is None:
        return FanOut(broker, metrics, summary)
    return FanOut(broker, metrics, summary, RelayedFeed(relay))


def _speech(settings: Settings, practice: Practice) -> SpeechSynthesizer | None:
    """What synthesises the greeting ahead of calls (the voice agent's provider, kept on
    disk under the data directory); None when that is off, the agent is unconfigured, or
    the agent is the scripted one (it speaks its own script)."""
    if (
        not settings.greeting_audio
        or settings.voice_agent != "deepgram"
        or not _agent_configured(settings)
    ):
        return None
    options = _deepgram_options(settings, practice)
    key = settings.deepgram_api_key.get_secret_value() if settings.deepgram_api_key else ""
    speech = DeepgramSpeech(settings.deepgram_speak_url, key, default_voice=options.speak_model)
    return FileCachedSpeech(
        speech,
        settings.frontdesk_data_dir / "speech",
        namespace=f"deepgram:{options.speak_model}",
    )


def _warm_agents(
    settings: Settings, voice_agent: VoiceAgent, metrics: CallMetrics
) -> WarmAgents | None:
    if not settings.agent_preconnect:
        return None
    return WarmAgents(voice_agent, timeout_s=settings.agent_preconnect_timeout_s, observer=metrics)


def _agent_configured(settings: Settings) -> bool:
    """Whether the chosen voice agent has the credentials it needs to take calls."""
    if settings.voice_agent == "scripted":
        return True  # it needs nothing outside this repository
    return settings.voice_agent == "deepgram" and settings.deepgram_api_key is not None


def _dispatch_policy(settings: Settings) -> DispatchPolicy:
    jitter = random.Random()  # noqa: S311 - spreading retries, not a secret
    return DispatchPolicy(
        schedule=RetrySchedule.with_first_retry(
            timedelta(seconds=settings.webhook_first_retry_s), lambda: jitter.uniform(-1, 1)
        ),
        poll_interval_s=settings.webhook_poll_interval_s,
        lease=timedelta(seconds=settings.webhook_timeout_s + 30),
    )


def _webhook_sender(settings: Settings) -> HttpxWebhookSender:
    return HttpxWebhookSender(
        timeout_s=settings.webhook_timeout_s,
        allow_private=settings.frontdesk_webhook_allow_private_urls,
    )


def _confirmation_texts(settings: Settings, practice: Practice) -> ConfirmationTexts | None:
    """None (no texts written) unless the server can send texts and the practice file
    does not turn them off (`[sms] enabled = false`)."""
    enabled = settings.texts_enabled and practice.texts.enabled
    return ConfirmationTexts(practice) if enabled else None


def _text_notifier(settings: Settings) -> Notifier:
    """The one place that picks who sends texts (`Settings.text_provider`)."""
    if settings.text_provider == "telnyx":
        key = settings.telnyx_api_key.get_secret_value() if settings.telnyx_api_key else ""
        return TelnyxTextNotifier(
            key,
            from_number=settings.telnyx_messaging_from or "",
            base_url=settings.telnyx_api_base_url,
        )
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    return TwilioTextNotifier(
        settings.twilio_account_sid or "",
        token,
        from_number=settings.twilio_messaging_from or "",
        base_url=settings.twilio_api_base_url,
    )


def _poke_all(*wakes: DeliveryWakeUp) -> Callable[[], None]:
    def poke() -> None:
        for wake in wakes:
            wake.poke()

    return poke


class Container(containers.DeclarativeContainer):
    """Singletons for what lives as long as the process, Factories for per-request work.

    Tests override `settings`, `clock` or `database` rather than patching modules.
    """

    settings = providers.Singleton(Settings)

    practice = providers.Singleton(
        load_practice,
        path=settings.provided.practice_file,
        default_region=settings.provided.default_region,
    )
    clock = providers.Singleton(SystemClock)
    database = providers.Singleton(
        Database.from_url,
        url=settings.provided.resolved_database_url.call(),
        pool_size=settings.provided.database_pool_size,
    )
    delivery_wake = providers.Singleton(DeliveryWakeUp)
    text_wake = providers.Singleton(DeliveryWakeUp)
    """Both poked by a unit of work that committed to the outbox: wake the dispatchers."""
    unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork,
        database=database,
        on_outbox_commit=providers.Singleton(_poke_all, delivery_wake, text_wake),
    )
    confirmation_texts = providers.Singleton(
        _confirmation_texts, settings=settings, practice=practice
    )
    """None unless texting is configured: then no texts are written."""

    find_open_slots = providers.Factory(
        FindOpenSlotsHandler, practice=practice, uow=unit_of_work.provider, clock=clock
    )
    book_appointment = providers.Factory(
        BookAppointmentHandler,
        practice=practice,
        uow=unit_of_work.provider,
        clock=clock,
        texts=confirmation_texts,
    )
    find_appointments = providers.Factory(
        FindAppointmentsHandler, practice=practice, uow=unit_of_work.provider
    )
    get_appointment = providers.Factory(GetAppointmentHandler, uow=unit_of_work.provider)
    cancel_appointment = providers.Factory(
        CancelAppointmentHandler, uow=unit_of_work.provider, clock=clock, texts=confirmation_texts
    )
    reschedule_appointment = providers.Factory(
        RescheduleAppointmentHandler,
        practice=practice,
        uow=unit_of_work.provider,
        clock=clock,
        texts=confirmation_texts,
    )

    day_schedule = providers.Factory(
        DayScheduleHandler, practice=practice, uow=unit_of_work.provider, clock=clock
    )

    password_hasher = providers.Singleton(Argon2PasswordHasher)
    login_throttle = providers.Singleton(LoginThrottle)
    session_policy = providers.Singleton(SessionPolicy)
    add_staff = providers.Factory(
        AddStaffHandler, uow=unit_of_work.provider, hasher=password_hasher, clock=clock
    )
    list_staff = providers.Factory(ListStaffHandler, uow=unit_of_work.provider)
    remove_staff = providers.Factory(RemoveStaffHandler, uow=unit_of_work.provider)
    sign_in = providers.Factory(
        SignInHandler,
        uow=unit_of_work.provider,
        hasher=password_hasher,
        clock=clock,
        throttle=login_throttle,
    )
    resume_session = providers.Factory(
        ResumeSessionHandler, uow=unit_of_work.provider, clock=clock, policy=session_policy
    )
    sign_out = providers.Factory(SignOutHandler, uow=unit_of_work.provider)

    touched_appointments = providers.Factory(TouchedAppointmentsHandler, uow=unit_of_work.provider)
    list_calls = providers.Factory(ListCallsHandler, uow=unit_of_work.provider)
    get_call = providers.Factory(GetCallHandler, uow=unit_of_work.provider)
    admit_call = providers.Factory(AdmitCallHandler, uow=unit_of_work.provider, clock=clock)
    turn_away_call = providers.Factory(TurnAwayCallHandler, uow=unit_of_work.provider, clock=clock)
    carrier_references = providers.Factory(CarrierReferencesHandler, uow=unit_of_work.provider)
    open_stream = providers.Factory(OpenStreamHandler, uow=unit_of_work.provider)
    next_step = providers.Factory(NextStepHandler, uow=unit_of_work.provider)
    record_call_status = providers.Factory(
        RecordCallStatusHandler, uow=unit_of_work.provider, clock=clock
    )

    voice_agent = providers.Singleton(
        _voice_agent, settings=settings, practice=practice, clock=clock
    )
    agent_configured = providers.Callable(_agent_configured, settings=settings)
    agent_recovery = providers.Singleton(
        RecoveryLimits,
        max_attempts=settings.provided.agent_reconnect_attempts,
        budget_s=settings.provided.agent_reconnect_budget_s,
        silence_timeout_s=settings.provided.agent_silence_timeout_s,
    )
    session_limits = providers.Singleton(
        SessionLimits,
        goodbye_timeout_s=settings.provided.goodbye_timeout_s,
        goodbye_grace_s=settings.provided.goodbye_grace_s,
        tool_timeout_s=settings.provided.tool_timeout_s,
        max_call_s=settings.provided.max_call_duration_s,
        agent_recovery=agent_recovery,
    )
    call_events = providers.Singleton(CallEventBroker)
    metrics = providers.Singleton(CallMetrics)
    call_capacity = providers.Singleton(
        CallCapacity, max_calls=settings.provided.max_concurrent_calls
    )
    call_summary = providers.Singleton(CallSummaryLog)
    event_relay = providers.Singleton(_event_relay, settings=settings, broker=call_events)
    """None on the embedded database (one process); on Postgres, LISTEN/NOTIFY."""
    call_observer = providers.Singleton(
        _call_observer,
        broker=call_events,
        metrics=metrics,
        summary=call_summary,
        relay=event_relay,
    )
    """Each call event to the live feed (this process's subscribers, and the other
    processes' through the relay), the metrics and the call summary log."""
    tools = providers.Singleton(
        ReceptionistTools,
        practice=practice,
        clock=clock,
        find_open_slots=find_open_slots,
        book_appointment=book_appointment,
        find_appointments=find_appointments,
        get_appointment=get_appointment,
        reschedule_appointment=reschedule_appointment,
        cancel_appointment=cancel_appointment,
    )
    speech = providers.Singleton(_speech, settings=settings, practice=practice)
    greeting_audio = providers.Singleton(GreetingAudio, speech=speech)
    brief_agent = providers.Factory(
        BriefAgent, practice=practice, clock=clock, tools=tools, greetings=greeting_audio
    )
    warm_agents = providers.Singleton(
        _warm_agents, settings=settings, voice_agent=voice_agent, metrics=metrics
    )
    """Agent conversations opened at admission, before their stream; None when off."""
    answer_call = providers.Factory(
        AnswerCall,
        brief=brief_agent,
        warm=warm_agents,
        practice=practice,
        uow=unit_of_work.provider,
        clock=clock,
        voice_agent=voice_agent,
        tools=tools,
        open_stream=open_stream,
        limits=session_limits,
        observer=call_observer,
    )

    webhook_subscriptions = providers.Singleton(SqlAlchemyWebhookSubscriptions, database=database)
    delivery_queue = providers.Singleton(SqlAlchemyDeliveryQueue, database=database)
    webhook_sender = providers.Singleton(_webhook_sender, settings=settings)
    """Closed by the app at shutdown (`aclose`)."""
    webhook_dispatcher = providers.Singleton(
        WebhookDispatcher,
        queue=delivery_queue,
        sender=webhook_sender,
        clock=clock,
        wake=delivery_wake,
        observer=metrics,
        policy=providers.Singleton(_dispatch_policy, settings=settings),
    )
    subscribe_webhook = providers.Factory(
        SubscribeHandler,
        subscriptions=webhook_subscriptions,
        clock=clock,
        allow_private=settings.provided.frontdesk_webhook_allow_private_urls,
    )
    list_webhooks = providers.Factory(ListSubscriptionsHandler, subscriptions=webhook_subscriptions)
    get_webhook = providers.Factory(GetSubscriptionHandler, subscriptions=webhook_subscriptions)
    delete_webhook = providers.Factory(
        DeleteSubscriptionHandler, subscriptions=webhook_subscriptions
    )
    rotate_webhook_secret = providers.Factory(
        RotateSecretHandler, subscriptions=webhook_subscriptions, clock=clock
    )
    list_webhook_deliveries = providers.Factory(
        ListDeliveriesHandler, subscriptions=webhook_subscriptions, queue=delivery_queue
    )
    redeliver_webhook = providers.Factory(
        RedeliverHandler,
        subscriptions=webhook_subscriptions,
        queue=delivery_queue,
        clock=clock,
        wake=delivery_wake,
    )

    record_opt_out = providers.Factory(
        RecordOptOutHandler,
        uow=unit_of_work.provider,
        clock=clock,
        default_region=practice.provided.default_region,
    )
    outbound_history = providers.Factory(
        OutboundHistoryHandler, log=providers.Singleton(SqlAlchemyOutboundLog, database=database)
    )
    text_queue = providers.Singleton(SqlAlchemyTextQueue, database=database)
    text_notifier = providers.Singleton(_text_notifier, settings=settings)
    text_dispatcher = providers.Singleton(
        TextDispatcher,
        queue=text_queue,
        notifier=text_notifier,
        clock=clock,
        wake=text_wake,
        observer=metrics,
        poll_interval_s=settings.provided.webhook_poll_interval_s,
    )
    """Started by the app only when `settings.texts_enabled`."""
