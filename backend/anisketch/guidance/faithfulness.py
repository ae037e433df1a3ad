"""How far guidance follows the strokes (1) rather than the closest plausible face (0), unless the artist says."""

# Tuned on validation seeds (1.5e9 upwards, neither training nor evaluation): F1@3px at 25/50/75/100% drawn was
# 0.670/0.739/0.823/0.849 at 0.5, 0.672/0.751/0.833/0.852 at 0.75 and 0.672/0.754/0.841/0.850 at 1.0. 0.75 keeps
# a little pull towards plausible faces for the parts a beginner gets wrong.
DEFAULT_FAITHFULNESS = 0.75
