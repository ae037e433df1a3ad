"""How far guidance follows the strokes (1) rather than the closest plausible face (0), unless the artist says."""

# 1.0: the strokes as the encoder reads them, no pull towards the nearest training faces. First tuned to 0.75 on an
# early encoder (validation seeds 1.5e9.., F1@3px at 25/50/75/100 % drawn: 0.672/0.751/0.833/0.852 at 0.75,
# 0.672/0.754/0.841/0.850 at 1.0), kept there for a pull towards plausible faces for the parts a beginner gets
# wrong. With the shipped encoder 1.0 reads better nearly everywhere, the beginner's sketch included: on unseen
# seeds (`anisketch eval --only robustness,framing --count 32 --render-count 0`, two seed sets) the sum of all
# 80 condition figures rose 63.93 -> 64.12 and 62.95 -> 63.22, no accessory invented (docs/guidance.md).
DEFAULT_FAITHFULNESS = 1.0
