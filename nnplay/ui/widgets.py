"""Shared Streamlit widgets. Each function is self-contained: it draws its controls, seeds
them from the experiment through `session` and hands back (or writes back) the value.

Widget keys start with "w:" (see `session.seeded`), so a new experiment re-seeds them all.
"""
from __future__ import annotations

import streamlit as st

from nnplay import layers as L
from nnplay import stack
from nnplay.ui import session

REGULARIZER_KINDS = {"none": (), "l1": ("l1",), "l2": ("l2",), "l1_l2": ("l1", "l2")}
PARAM_WIDTH = 150  # pixels: layer parameters flow in rows of this width


def spec_slider(label: str, path: str, min_value, max_value, step, **kwargs):
    """A slider bound to the experiment at `path` whose range always holds the current value
    (a spec from a link may hold any allowed value, not only the slider's usual ones)."""
    section, name = path.split(".", 1)
    part = getattr(session.experiment(), section)
    number = float if isinstance(step, float) else int
    current = getattr(part, name)
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        current = number(current)
        setattr(part, name, current)  # 0 from JSON is an int; a float slider needs 0.0
        min_value, max_value = min(min_value, current), max(max_value, current)
    return session.bound(st.slider, label, path, min_value=number(min_value),
                         max_value=number(max_value), step=step, **kwargs)


# ---- layer parameters ----------------------------------------------------------------------

def _clamped(label: str, value, p: L.Param, number, default):
    """`value` as `number` inside the parameter's range; the default when it is not a number.
    A number from the experiment (a link, an uploaded spec) outside the range is said where
    the field is, so that the page never trains another value than the one asked for
    without a word (once: the field then writes its value into the experiment)."""
    asked = value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        value = default
    value = number(value)
    if p.min is not None:
        value = max(value, number(p.min))
    if p.max is not None:
        value = min(value, _top(p, number))
    number_asked = isinstance(asked, (int, float)) and not isinstance(asked, bool)
    if number_asked and asked == asked and asked != value:   # (NaN is refused elsewhere)
        st.warning(f"**{label}** was {_number_text(asked)} in this experiment, outside what "
                   f"this field takes; it now reads {_number_text(value)}.")
    return value


def _number_text(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _top(p: L.Param, number):
    if number is int:
        return int(p.max) - (1 if p.max_exclusive else 0)
    return float(p.max) - (0.001 if p.max_exclusive else 0.0)


def _int_input(label: str, key: str, p: L.Param, value, **kw):
    current = _clamped(label, value, p, int, p.default if p.default is not None else 1)
    return int(session.seeded(
        st.number_input, label, key, current, step=1,
        min_value=int(p.min) if p.min is not None else None,
        max_value=_top(p, int) if p.max is not None else None, help=p.help, **kw))


def _float_input(label: str, key: str, p: L.Param, value, **kw):
    current = _clamped(label, value, p, float, p.default)
    small = p.max is not None and p.max <= 1
    return float(session.seeded(
        st.number_input, label, key, current, step=0.01 if small else 0.1, format="%g",
        min_value=float(p.min) if p.min is not None else None,
        max_value=_top(p, float) if p.max is not None else None, help=p.help, **kw))


def _size_input(label: str, key: str, p: L.Param, value, **kw):
    """One number for a square window (the usual case); "h, w" text for a pair that differs."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] != value[1]:
        text = session.seeded(st.text_input, label, key + ".pair", f"{value[0]}, {value[1]}",
                              help=p.help + " Two numbers: height, width.", **kw)
        try:
            sizes = stack.parse_shape(text)
        except ValueError as e:
            st.error(f"{p.name}: {e}")
            return value
        if len(sizes) > 2:
            st.error(f"{p.name}: two numbers at most (height, width), got {text!r}")
            return value
        return sizes[0] if len(sizes) == 1 else sizes
    if isinstance(value, (list, tuple)) and value:
        value = value[0]
    if value is None and p.nullable:
        current = None
    else:
        current = _clamped(label, value, p, int, p.default if p.default is not None else 1)
    chosen = session.seeded(st.number_input, label, key, current, step=1,
                            min_value=int(p.min) if p.min is not None else None,
                            max_value=int(p.max) if p.max is not None else None,
                            placeholder="same as pool size" if p.nullable else None,
                            help=p.help, **kw)
    return None if chosen is None else int(chosen)


def _shape_input(label: str, key: str, p: L.Param, value, **kw):
    shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value or "")
    text = session.seeded(st.text_input, label, key, shown, help=p.help, **kw)
    try:
        return stack.parse_shape(text)
    except ValueError as e:
        st.error(f"{p.name}: {e}")
        return value


def _regularizer_input(label: str, key: str, p: L.Param, value, **kw):
    value = value if isinstance(value, dict) else {}
    current = "l1_l2" if {"l1", "l2"} <= set(value) else next(
        (k for k in ("l1", "l2") if k in value), "none")
    kind = session.seeded(st.selectbox, label, key + ".kind", current,
                          options=list(REGULARIZER_KINDS), help=p.help, **kw)
    out = {}
    for part in REGULARIZER_KINDS[kind]:
        rate = value.get(part, 0.001)
        rate = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else 0.001
        out[part] = float(session.seeded(
            st.number_input, f"{part} rate", key + "." + part, max(rate, 0.0), min_value=0.0,
            max_value=max(10.0, rate), step=0.0001, format="%g",
            help=f"How strongly large weights are penalized ({part.upper()}).", **kw))
    return out or None


def _inner_layer_input(label: str, key: str, p: L.Param, value, **kw):
    """Bidirectional's wrapped layer: its type, units and return_sequences."""
    inner = dict(value) if isinstance(value, dict) else {"type": "LSTM", "units": 32}
    kind_name = inner.get("type") if inner.get("type") in L.RECURRENT else "LSTM"
    kind = L.CATALOGUE[kind_name]
    inner["type"] = session.seeded(st.selectbox, label, key + ".type", kind_name,
                                   options=list(L.RECURRENT), help=p.help, **kw)
    inner["units"] = _int_input("units", key + ".units", kind.param("units"),
                                inner.get("units"), **kw)
    sequences = session.seeded(st.checkbox, "return_sequences", key + ".return_sequences",
                               inner.get("return_sequences") is True,
                               help=kind.param("return_sequences").help)
    if sequences or "return_sequences" in inner:
        inner["return_sequences"] = bool(sequences)
    return inner


def param_input(p: L.Param, value, key: str, **kw):
    """The widget for one layer parameter, seeded with `value`; returns the chosen value.

    int -> number input, float -> number input, bool -> checkbox, choice -> select box,
    size -> whole number (a pair as text), shape -> text "28, 28, 1", regularizer -> kind and
    rate(s), layer -> the recurrent layer Bidirectional wraps.
    """
    if p.type == "bool":
        current = value if isinstance(value, bool) else bool(p.default)
        return bool(session.seeded(st.checkbox, p.name, key, current, help=p.help))
    if p.type == "choice":
        current = value if value in p.choices else p.default
        return session.seeded(st.selectbox, p.name, key, current, options=list(p.choices),
                              help=p.help, **kw)
    inputs = {"int": _int_input, "float": _float_input, "size": _size_input,
              "shape": _shape_input, "regularizer": _regularizer_input,
              "layer": _inner_layer_input}
    return inputs[p.type](p.name, key, p, value, **kw)


def layer_params(layer: dict, key: str, params) -> None:
    """Widgets for `params` of `layer`, written back into the layer dict.

    A parameter the layer leaves out (so Keras's default applies) is only written when the
    student picks another value, which keeps the spec, the link and the exported code short.
    """
    for p in params:
        given = p.name in layer
        value = layer[p.name] if given else p.default
        chosen = param_input(p, value, f"{key}.{p.name}", width=PARAM_WIDTH)
        if given or chosen != p.default:
            layer[p.name] = chosen
