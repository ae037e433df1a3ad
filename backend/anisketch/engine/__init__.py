"""The procedural anime portrait engine: parameter space (params), vector geometry (geometry), pixels (raster).

    from anisketch.engine import sample_params, build_portrait, render
    portrait = build_portrait(sample_params(seed=7, attributes={"hair_color": "pink"}))
    images = render(portrait, 512)  # {"color", "lineart", "parts"}
"""

from anisketch.engine.geometry import Portrait, Region, Stroke, build_portrait
from anisketch.engine.params import (ATTRIBUTES, ENGINE_VERSION, GROUPS, PARAM_SPECS, PART_LABELS, Params,
                                     ParamSpec, attributes_of, choice_drawn_mask, choice_groups, choice_sizes, decode,
                                     drawn_mask, encode, float_groups, sample_params)
from anisketch.engine.raster import render, render_lines

__all__ = ["ATTRIBUTES", "ENGINE_VERSION", "GROUPS", "PARAM_SPECS", "PART_LABELS", "ParamSpec", "Params", "Portrait",
           "Region", "Stroke", "attributes_of", "build_portrait", "choice_drawn_mask", "choice_groups",
           "choice_sizes", "decode", "drawn_mask", "encode", "float_groups", "render", "render_lines",
           "sample_params"]
