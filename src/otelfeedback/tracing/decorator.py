"""``@trace``: one decorator for sync, async, generator and async-generator functions.

Each wrapper follows the instrumentation sandwich: preparing the span happens inside ``try``
(on failure the original function runs untouched and the error is logged once); the user's
code runs outside any swallowing ``try``, its exceptions recorded and re-raised unchanged;
recording the result happens inside ``try`` again.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api

from otelfeedback._internal.safety import log_internal_error
from otelfeedback.semconv import SpanType
from otelfeedback.tracing import _state
from otelfeedback.tracing._inputs import InputBinder
from otelfeedback.tracing.span import (
    attribute_value,
    begin,
    finish,
    io_attributes,
    mark_ok,
    record_error,
    set_io,
    type_attributes,
)

P = ParamSpec("P")
R = TypeVar("R")
#: Set on every function ``@trace`` returns (``is_traced``).
TRACED_MARKER = "__otelfeedback_traced__"


class _Recipe:
    """Everything about a decorated function that is fixed at decoration time."""

    __slots__ = ("attributes", "binder", "capture_inputs", "capture_outputs", "name", "reducer")

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None,
        span_type: SpanType,
        attributes: Mapping[str, Any] | None,
        capture_inputs: bool,
        capture_outputs: bool,
        reducer: Callable[[list[Any]], Any] | None,
    ) -> None:
        self.name = name or getattr(func, "__qualname__", None) or repr(func)
        attrs: dict[str, Any] = type_attributes(span_type)
        if attributes:
            attrs.update({k: attribute_value(v) for k, v in attributes.items()})
        self.attributes = attrs
        self.binder = InputBinder(func) if capture_inputs else None
        self.capture_inputs = capture_inputs
        self.capture_outputs = capture_outputs
        self.reducer = reducer

    def start(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], attach: bool = True
    ) -> tuple[trace_api.Span, object | None, _state.TracingState, otel_context.Context]:
        state = _state.current()
        inputs = None
        if self.binder is not None and state.capture_content:
            inputs = io_attributes("input", self.binder.bind(args, kwargs), state)
        span, token, ctx = begin(state, self.name, self.attributes, attach, later=inputs)
        return span, token, state, ctx

    def try_start(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], attach: bool = True
    ) -> tuple[trace_api.Span, object | None, _state.TracingState, otel_context.Context] | None:
        """``start``, or ``None`` (logged) when starting failed: run the function untraced."""
        try:
            return self.start(args, kwargs, attach)
        except Exception:
            log_internal_error("starting a span failed")
            return None

    def end_ok(
        self, span: trace_api.Span, token: object | None, state: _state.TracingState, value: Any
    ) -> None:
        """Record the output (unless capture is off), set status OK and end the span; never
        raises."""
        try:
            if self.capture_outputs and state.capture_content:
                set_io(span, "output", value, state)
            mark_ok(span, state)
        except Exception:
            log_internal_error("recording outputs failed")
        _safe_finish(span, token)

    @staticmethod
    def end_error(span: trace_api.Span, token: object | None, exc: BaseException) -> None:
        """Record ``exc`` and end the span; never raises (the caller re-raises ``exc``)."""
        try:
            record_error(span, exc)
        except Exception:
            log_internal_error("recording an exception failed")
        _safe_finish(span, token)

    def reduce(self, items: list[Any]) -> Any:
        return self.reducer(items) if self.reducer is not None else items


def _safe_finish(span: trace_api.Span, token: object | None) -> None:
    try:
        finish(span, token)
    except Exception:
        log_internal_error("ending a span failed")


def _wrap_function(func: Callable[..., Any], recipe: _Recipe) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = recipe.try_start(args, kwargs)
        if started is None:
            return func(*args, **kwargs)
        span, token, state, _ = started
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            recipe.end_error(span, token, exc)
            raise
        recipe.end_ok(span, token, state, result)
        return result

    return wrapper


def _wrap_coroutine(func: Callable[..., Any], recipe: _Recipe) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = recipe.try_start(args, kwargs)
        if started is None:
            return await func(*args, **kwargs)
        span, token, state, _ = started
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            recipe.end_error(span, token, exc)
            raise
        recipe.end_ok(span, token, state, result)
        return result

    return wrapper


class _StreamRecorder:
    """The span of a generator: current only while the generator body runs."""

    __slots__ = ("ctx", "done", "items", "recipe", "span", "state")

    def __init__(self, recipe: _Recipe, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.recipe = recipe
        self.span, _, self.state, self.ctx = recipe.start(args, kwargs, attach=False)
        self.items: list[Any] | None = (
            [] if recipe.capture_outputs and self.state.capture_content else None
        )
        self.done = False

    def enter(self) -> object:
        return otel_context.attach(self.ctx)

    def leave(self, token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def item(self, value: Any) -> None:
        if self.items is not None:
            self.items.append(value)

    def close(self, exc: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        if exc is not None:
            self.recipe.end_error(self.span, None, exc)
            return
        try:
            output = self.recipe.reduce(self.items) if self.items is not None else None
        except Exception:
            log_internal_error("output_reducer failed")
            output = None
        self.recipe.end_ok(self.span, None, self.state, output)


def _wrap_generator(func: Callable[..., Any], recipe: _Recipe) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            rec = _StreamRecorder(recipe, args, kwargs)
        except Exception:
            log_internal_error("starting a span failed")
            return (yield from func(*args, **kwargs))
        gen = func(*args, **kwargs)
        send: Callable[[Any], Any] = gen.send
        value: Any = None
        try:
            while True:
                token = rec.enter()
                try:
                    item = send(value)
                except StopIteration as stop:
                    rec.close()
                    return stop.value
                finally:
                    rec.leave(token)
                rec.item(item)
                try:
                    value = yield item
                    send = gen.send
                except GeneratorExit:
                    gen.close()
                    rec.close()
                    raise
                except BaseException as exc:  # thrown in by the consumer: pass it on
                    send = functools.partial(_throw, gen, exc)
                    value = None
        except BaseException as exc:
            rec.close(exc)
            raise
        finally:
            rec.close()

    return wrapper


def _throw(gen: Any, exc: BaseException, _ignored: Any) -> Any:
    return gen.throw(exc)


def _wrap_async_generator(func: Callable[..., Any], recipe: _Recipe) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            rec = _StreamRecorder(recipe, args, kwargs)
        except Exception:
            log_internal_error("starting a span failed")
            async for item in func(*args, **kwargs):
                yield item
            return
        agen = func(*args, **kwargs)
        value: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                token = rec.enter()
                try:
                    if thrown is not None:
                        exc, thrown = thrown, None
                        item = await agen.athrow(exc)
                    else:
                        item = await agen.asend(value)
                except StopAsyncIteration:
                    rec.close()
                    return
                finally:
                    rec.leave(token)
                rec.item(item)
                try:
                    value = yield item
                except GeneratorExit:
                    await agen.aclose()
                    rec.close()
                    raise
                except BaseException as exc:
                    thrown, value = exc, None
        except BaseException as exc:
            rec.close(exc)
            raise
        finally:
            rec.close()

    return wrapper


def _decorate(func: Any, recipe_args: dict[str, Any]) -> Any:
    if isinstance(func, (classmethod, staticmethod)):
        return type(func)(_decorate(func.__func__, recipe_args))
    if not callable(func):
        raise TypeError(f"@trace needs a function, got {type(func).__name__}")
    recipe = _Recipe(func, **recipe_args)
    if inspect.isasyncgenfunction(func):
        wrapper = _wrap_async_generator(func, recipe)
    elif inspect.isgeneratorfunction(func):
        wrapper = _wrap_generator(func, recipe)
    elif inspect.iscoroutinefunction(func):
        wrapper = _wrap_coroutine(func, recipe)
    else:
        wrapper = _wrap_function(func, recipe)
    setattr(wrapper, TRACED_MARKER, True)
    return wrapper


def is_traced(func: Any) -> bool:
    """Whether ``func`` (or the function of a bound method) was decorated with ``@trace``:
    each call then opens a span of ours."""
    return getattr(func, TRACED_MARKER, False) is True


@overload
def trace(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def trace(
    *,
    name: str | None = None,
    span_type: SpanType | str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    capture_inputs: bool = True,
    capture_outputs: bool = True,
    output_reducer: Callable[[list[Any]], Any] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def trace(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    span_type: SpanType | str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    capture_inputs: bool = True,
    capture_outputs: bool = True,
    output_reducer: Callable[[list[Any]], Any] | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Trace every call of a function as a span.

    Works bare (``@trace``) or with options, on sync, async, generator and async-generator
    functions, methods, classmethods and staticmethods. Inputs are the call's arguments
    bound to the signature (defaults applied, ``self``/``cls`` dropped); outputs are the
    return value, or for generators the list of yielded items (or ``output_reducer(items)``).
    An exception is recorded on the span (status ERROR) and re-raised unchanged; a call that
    returns gets status OK (unless the ``status_ok`` setting is off).

    Example::

        @otelfeedback.trace(span_type="RETRIEVER")
        def retrieve(query: str) -> list[str]: ...

    Args:
        name: span name (default: the function's qualified name).
        span_type: a ``SpanType`` or its name, e.g. ``"RETRIEVER"``.
        attributes: extra attributes set on every span of this function.
        capture_inputs: record the arguments as ``input.value``.
        capture_outputs: record the result as ``output.value``.
        output_reducer: for generators, turns the list of yielded items into the output.

    Raises:
        InvalidArgumentError: ``span_type`` is not a known span type (the message lists
            them; also a ``ValueError``).
    """
    recipe_args = {
        "name": name,
        "span_type": SpanType.parse(span_type),
        "attributes": attributes,
        "capture_inputs": capture_inputs,
        "capture_outputs": capture_outputs,
        "reducer": output_reducer,
    }
    if func is not None:
        return _decorate(func, recipe_args)  # type: ignore[no-any-return]
    return lambda f: _decorate(f, recipe_args)
