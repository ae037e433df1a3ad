"""The portrait's parts, each built in face units on a Builder: face (contour, ears, neck, clothes, blush),
features (eyes, brows, nose, mouth), hair, accessories."""
