"""Streamlit dashboard: sentence encoders against averaged word vectors on order-swapped sentences.

Run with ``streamlit run dashboard/app.py``. The dashboard calls pipelines and the
encoder registry only. Until the encoders land, it shows the stimulus: Flowers captions
next to their order-swapped twins, which averaged word vectors cannot tell apart.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import streamlit as st

import t2i_core


@st.cache_resource
def world_preview():
    return t2i_core.load_pipeline("world-preview")


st.set_page_config(page_title="t2i_core: sentence encoders", layout="wide")
st.title("Does the encoder read word order?")
st.write(
    "“a red flower with a yellow stem” and “a yellow flower with a red stem” hold the same words. "
    "The average of their word vectors is identical; a sentence encoder that reads order can tell them apart."
)

encoders = t2i_core.TEXT_ENCODERS.names()
if encoders:
    st.write("Registered encoders: " + ", ".join(encoders))
else:
    st.info("No sentence encoder is registered yet; below are the order-swapped sentences they will be compared on.")

seed = st.number_input("World seed", min_value=0, value=0, step=1)
count = st.slider("Flowers", min_value=1, max_value=24, value=8)
preview = world_preview()("flowers", split="train", n=int(count), seed=int(seed))
st.image(preview.grid, caption="Flowers world (train split)")
st.table([{"caption": c, "order-swapped twin": s} for c, s in zip(preview.captions, preview.swapped_captions)])
