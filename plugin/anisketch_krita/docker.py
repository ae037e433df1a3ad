"""The AniSketch docker: widgets only. Each control calls the Controller; `refresh` redraws from its state."""

from __future__ import annotations

from typing import Any, Callable, Optional

from krita import DockWidget, Krita

from . import canvas
from .connection import Connection
from .controller import Controller
from .launcher import DEFAULT_ENDPOINT, Launcher, read_config
from .shortcut import shortcut_note
from .qt import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QIcon, QLabel,
                 QListWidget, QListWidgetItem, QPixmap, QProgressBar, QPushButton, QSize, QSlider, QSpinBox,
                 QTabWidget, QTimer, QToolButton, QVBoxLayout, QWidget, Qt)
from .state import PIN_LABELS, PIN_PARTS, RANDOM, SETTINGS_GROUP, Settings, Status

DOCKER_ID = "anisketch_docker"
STATUS_COLORS = {Status.CONNECTED: "#3c9a4a", Status.STARTING: "#c79a1b", Status.CONNECTING: "#c79a1b",
                 Status.DISCONNECTED: "#c0392b"}
SHORTCUT_CHECK_MS = 30_000  # the toggle's shortcut is checked against Krita's actions this often (and at start)
GUIDE_BUSY_COLOR = "#3b7dd8"  # the status dot while guidance is being updated (a strip would jump at every stroke)
ACTIVE_LAYER = ""  # the layer chooser's first entry: follow the active layer

# Docker instances, so that the Krita action (created by the Extension) reaches them.
OPEN_DOCKERS: list["AniSketchDocker"] = []


def krita_settings() -> Settings:
    krita = Krita.instance()
    return Settings.load(lambda key, default: krita.readSetting(SETTINGS_GROUP, key, default))


def save_krita_settings(settings: Settings) -> None:
    krita = Krita.instance()
    settings.save(lambda key, value: krita.writeSetting(SETTINGS_GROUP, key, value))


def make_controller() -> Controller:
    settings = krita_settings()
    config = read_config()
    endpoint = settings.endpoint or config.get("endpoint") or DEFAULT_ENDPOINT
    connection = Connection(endpoint, Launcher.from_config(config), may_start=lambda: settings.start_backend)
    return Controller(connection, settings, save_krita_settings, Krita.instance())


class AniSketchDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("AniSketch")
        self.controller = make_controller()
        self._updating = False  # True while refresh() sets widget values (no feedback loop)
        root = QWidget(self)
        layout = QVBoxLayout(root)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._status_row())
        layout.addWidget(self._progress_row())
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #e0584b;")
        self.error_label.setObjectName("anisketch_error")
        layout.addWidget(self.error_label)
        layout.addWidget(self._layers_box())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._guidance_tab(), "Guidance")
        self.tabs.addTab(self._colour_tab(), "Colour")
        self.tabs.addTab(self._generate_tab(), "Generate")
        layout.addWidget(self.tabs)
        layout.addStretch(1)
        self.setWidget(root)
        self.controller.changed.connect(self.refresh)
        self.controller.guide_changed.connect(self._refresh_status)
        self.controller.renders_changed.connect(self._refresh_candidates)
        self._shortcut_timer = QTimer(self)  # the artist may rebind either action; walking Krita's takes ms
        self._shortcut_timer.setInterval(SHORTCUT_CHECK_MS)
        self._shortcut_timer.timeout.connect(self._refresh_shortcut)
        self._shortcut_timer.start()
        self._refresh_shortcut()
        self._layer_timer = QTimer(self)  # layers come and go without any signal from Krita
        self._layer_timer.setInterval(1000)
        self._layer_timer.timeout.connect(self._refresh_layer_lists)
        self._layer_timer.start()
        OPEN_DOCKERS.append(self)
        self.destroyed.connect(lambda *_: self._forget())
        self.controller.start()
        self.refresh()

    def _forget(self) -> None:
        if self in OPEN_DOCKERS:
            OPEN_DOCKERS.remove(self)

    def canvasChanged(self, canvas: Any) -> None:  # required by Krita's DockWidget
        self.refresh()

    # ------------------------------------------------------------------------------------------ building

    def _status_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status_dot = QLabel("●")
        self.status_label = QLabel()
        self.status_label.setObjectName("anisketch_status")
        self.status_label.setWordWrap(True)
        self.reconnect_button = QToolButton()
        self.reconnect_button.setText("Reconnect")
        self.reconnect_button.clicked.connect(lambda: self.controller.connection.retry())
        row.addWidget(self.status_dot)
        row.addWidget(self.status_label, 1)
        row.addWidget(self.reconnect_button)
        return row

    def _progress_row(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: the backend reports no fractions
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.busy_label = QLabel()
        row.addWidget(self.busy_label)
        row.addWidget(self.progress, 1)
        self.progress_box = box
        return box

    def _layers_box(self) -> QGroupBox:
        box = QGroupBox("Layers")
        form = QFormLayout(box)
        self.sketch_combo = QComboBox()
        self.sketch_combo.activated.connect(lambda _: self.controller.choose_sketch(self.sketch_combo.currentData() or None))
        form.addRow("Sketch", self.sketch_combo)
        hints_row = QHBoxLayout()
        self.hints_combo = QComboBox()
        self.hints_combo.activated.connect(lambda _: self.controller.choose_hints(self.hints_combo.currentData() or None))
        create = QToolButton()
        create.setText("New")
        create.setToolTip(f'Create a "{canvas.HINTS_LAYER}" layer above the sketch for colour dabs')
        create.clicked.connect(lambda: self.controller.create_hints_layer())
        hints_row.addWidget(self.hints_combo, 1)
        hints_row.addWidget(create)
        form.addRow("Colour hints", hints_row)
        self.start_backend_box = QCheckBox("Start the backend when none answers")
        self.start_backend_box.toggled.connect(self._setter("start_backend"))
        form.addRow(self.start_backend_box)
        return box

    def _guidance_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.guidance_box = QCheckBox("Show guidance")
        self.guidance_box.setToolTip("Also Tools ▸ Scripts ▸ Toggle AniSketch guidance")
        self.guidance_box.toggled.connect(self._setter("guidance_on"))
        form.addRow(self.guidance_box)
        self.shortcut_label = QLabel()  # the toggle's shortcut, or why it does not work (shortcut.py)
        self.shortcut_label.setObjectName("anisketch_shortcut")
        self.shortcut_label.setWordWrap(True)
        form.addRow(self.shortcut_label)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("Rough (a colour per part)", "rough")
        self.mode_combo.addItem("Detail (the whole face)", "detail")
        self.mode_combo.activated.connect(lambda _: self._set("mode", self.mode_combo.currentData()))
        form.addRow("Mode", self.mode_combo)
        self.opacity_slider = self._slider(0, 100, lambda v: self._set("opacity", v))
        form.addRow("Opacity", self.opacity_slider)
        self.faithfulness_slider = self._slider(0, 100, lambda v: self._set("faithfulness", v / 100), on_release=True)
        self.faithfulness_slider.setToolTip("Left: the nearest plausible face. Right: exactly your strokes.")
        form.addRow("Faithfulness", self.faithfulness_slider)
        row = QHBoxLayout()
        self.auto_box = QCheckBox("After each stroke")
        self.auto_box.toggled.connect(self._setter("auto_update"))
        update = QPushButton("Update now")
        update.clicked.connect(lambda: self.controller.request_guidance())
        row.addWidget(self.auto_box)
        row.addWidget(update)
        form.addRow(row)
        pins = QGroupBox("Pin the parts that look right")
        grid = QGridLayout(pins)
        self.pin_buttons: dict[str, QToolButton] = {}
        for index, part in enumerate(PIN_PARTS):
            button = QToolButton()
            button.setText(PIN_LABELS[part])
            button.setCheckable(True)
            button.setObjectName(f"anisketch_pin_{part}")
            button.setStyleSheet("QToolButton:checked { background: #3d6fb4; color: white; }")
            button.setToolTip(f"Keep the {PIN_LABELS[part].lower()} exactly as they are now")
            button.toggled.connect(lambda on, part=part: self.controller.set_pin(part, on))
            grid.addWidget(button, index // 3, index % 3)
            self.pin_buttons[part] = button
        form.addRow(pins)
        self.confidence_label = QLabel()
        self.confidence_label.setWordWrap(True)
        form.addRow(self.confidence_label)
        return tab

    def _colour_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        form = QFormLayout()
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 8)
        self.count_spin.valueChanged.connect(lambda v: self._set("render_count", v))
        form.addRow("Candidates", self.count_spin)
        self.render_mode_combo = QComboBox()
        self.render_mode_combo.addItem("Refined (predicted face)", "refined")
        self.render_mode_combo.addItem("Faithful (your lines)", "faithful")
        self.render_mode_combo.setToolTip("Refined paints the face the guidance predicts (its own clean line art "
                                          "comes as a hidden layer); Faithful colours exactly what you drew")
        self.render_mode_combo.activated.connect(lambda _: self._set("render_mode", self.render_mode_combo.currentData()))
        form.addRow("Mode", self.render_mode_combo)
        self.style_spin = QSpinBox()
        self.style_spin.setRange(0, 2**31 - 1)
        self.style_spin.valueChanged.connect(lambda v: self._set("style_seed", v))
        form.addRow("Style seed", self.style_spin)
        layout.addLayout(form)
        self.render_button = QPushButton("Render")
        self.render_button.setObjectName("anisketch_render")
        self.render_button.clicked.connect(lambda: self.controller.render())
        layout.addWidget(self.render_button)
        self.candidate_list = QListWidget()
        self.candidate_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.candidate_list.setIconSize(QSize(96, 96))
        self.candidate_list.setMinimumHeight(120)
        self.candidate_list.setMovement(QListWidget.Movement.Static)
        self.candidate_list.currentRowChanged.connect(self._candidate_chosen)
        layout.addWidget(self.candidate_list)
        self.keep_button = QPushButton("Keep the chosen one")
        self.keep_button.clicked.connect(lambda: self.controller.keep_candidate(self.candidate_list.currentRow()))
        layout.addWidget(self.keep_button)
        return tab

    def _generate_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.attribute_form = QFormLayout()
        self.attribute_combos: dict[str, QComboBox] = {}
        self._attribute_vocabulary: dict[str, list[str]] = {}
        self._build_attribute_controls()
        layout.addLayout(self.attribute_form)
        form = QFormLayout()
        seed_row = QHBoxLayout()
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.valueChanged.connect(lambda v: self._set("generate_seed", v))
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.toggled.connect(self._setter("seed_locked"))
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.seed_lock)
        form.addRow("Seed", seed_row)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        for text, vary in (("Generate", ""), ("Vary seed", "seed"), ("Vary attributes", "attributes")):
            button = QPushButton(text)
            button.clicked.connect(lambda _, vary=vary: self.controller.generate(vary))
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.noise_label = QLabel()
        self.noise_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.noise_label.setWordWrap(True)
        layout.addWidget(self.noise_label)
        layout.addWidget(self._photo_box())
        return tab

    def _photo_box(self) -> QGroupBox:
        """From photo: a portrait of the face in a photo layer (the selection, else the whole layer)."""
        box = QGroupBox("From photo")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.photo_combo = QComboBox()
        self.photo_combo.setToolTip("The layer holding the photo; it is only read. Select the face to choose "
                                    "among several, or to work on part of a large photo.")
        self.photo_combo.activated.connect(lambda _: self.controller.choose_photo(self.photo_combo.currentData() or None))
        self.photo_button = QPushButton("From photo")
        self.photo_button.setObjectName("anisketch_from_photo")
        self.photo_button.setToolTip("Anime portraits of the face in the photo: colour candidates (as many as "
                                     "the Colour tab asks for) and its guidance, placed over the photo")
        self.photo_button.clicked.connect(lambda: self.controller.from_photo())
        row.addWidget(self.photo_combo, 1)
        row.addWidget(self.photo_button)
        layout.addLayout(row)
        self.photo_label = QLabel()
        self.photo_label.setObjectName("anisketch_photo_note")
        self.photo_label.setWordWrap(True)
        layout.addWidget(self.photo_label)
        return box

    def _build_attribute_controls(self) -> None:
        """One combo per attribute (Random + its values), from the backend's vocabulary once it answers."""
        vocabulary = self.controller.vocabulary()
        if vocabulary == self._attribute_vocabulary:
            return
        while self.attribute_form.rowCount():
            self.attribute_form.removeRow(0)
        self.attribute_combos = {}
        for name, values in vocabulary.items():
            combo = QComboBox()
            combo.addItem("Random", RANDOM)
            for value in values:
                combo.addItem(value.replace("_", " ").capitalize(), value)
            combo.setCurrentIndex(max(0, combo.findData(self.controller.attributes.get(name, RANDOM))))
            combo.activated.connect(lambda _, name=name, combo=combo: self._set_attribute(name, combo.currentData()))
            self.attribute_form.addRow(name.replace("_", " ").capitalize(), combo)
            self.attribute_combos[name] = combo
        self._attribute_vocabulary = vocabulary

    def _slider(self, lo: int, hi: int, changed: Callable[[int], None], on_release: bool = False) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(lo, hi)
        if on_release:  # a request per pixel of slider travel would only be superseded
            slider.sliderReleased.connect(lambda: changed(slider.value()))
            slider.valueChanged.connect(lambda v: None if slider.isSliderDown() else changed(v))
        else:
            slider.valueChanged.connect(changed)
        return slider

    # ------------------------------------------------------------------------------------------ events

    def _set(self, key: str, value: Any) -> None:
        if not self._updating and getattr(self.controller.settings, key) != value:
            self.controller.update_settings(**{key: value})

    def _setter(self, key: str) -> Callable[[Any], None]:
        return lambda value: self._set(key, bool(value))

    def _set_attribute(self, name: str, value: str) -> None:
        self.controller.attributes[name] = value

    def _candidate_chosen(self, row: int) -> None:
        if not self._updating and 0 <= row < len(self.controller.candidates):
            self.controller.choose_candidate(row)

    # ------------------------------------------------------------------------------------------ refresh

    def refresh(self) -> None:
        c, s = self.controller, self.controller.settings
        self._updating = True
        try:
            state = c.connection.state
            self._refresh_status()
            self.reconnect_button.setVisible(state.status is Status.DISCONNECTED)
            self.start_backend_box.setChecked(s.start_backend)
            self.guidance_box.setChecked(s.guidance_on)
            self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(s.mode)))
            self.opacity_slider.setValue(s.opacity)
            if not self.faithfulness_slider.isSliderDown():
                self.faithfulness_slider.setValue(round(s.faithfulness * 100))
            self.auto_box.setChecked(s.auto_update)
            for part, button in self.pin_buttons.items():
                button.setChecked(part in c.pins.parts)
            self.count_spin.setValue(s.render_count)
            self.render_mode_combo.setCurrentIndex(max(0, self.render_mode_combo.findData(s.render_mode)))
            self.style_spin.setValue(s.style_seed)
            self.seed_spin.setValue(s.generate_seed)
            self.seed_lock.setChecked(s.seed_locked)
            self.noise_label.setText(f"Noise: {c.last_noise}" if c.last_noise else "")
            self.photo_label.setText(c.photo_note)
            self.photo_label.setVisible(bool(c.photo_note))
            self.photo_button.setEnabled("photo" not in c.busy)
            if state.status is Status.CONNECTED:
                self._build_attribute_controls()
            self.keep_button.setEnabled(bool(c.candidates))
        finally:
            self._updating = False
        self._refresh_layer_lists()

    def _refresh_status(self) -> None:
        """What a guide going out or coming back changes: the status line, the busy indicators, the error and the
        confidence. Cheap (it runs twice per stroke): the progress strip is for long work (render, generate,
        photo); a guide in flight only tints the status dot, so the docker's layout does not jump."""
        c = self.controller
        state = c.connection.state
        guiding = "guide" in c.busy and state.status is Status.CONNECTED
        self.status_dot.setStyleSheet(f"color: {GUIDE_BUSY_COLOR if guiding else STATUS_COLORS[state.status]};")
        self.status_dot.setToolTip(c.busy["guide"] if guiding else "")
        self.status_label.setText(state.describe())
        long_work = " · ".join(text for op, text in c.busy.items() if op != "guide")
        self.busy_label.setText(long_work)
        self.progress_box.setVisible(bool(long_work))
        self.error_label.setText(c.error)
        self.error_label.setVisible(bool(c.error))
        confidence = c.session.memory.confidence
        self.confidence_label.setText(
            "Confidence: " + ", ".join(f"{k} {v:.0%}" for k, v in confidence.items() if isinstance(v, (int, float)))
            if confidence else "")

    def _refresh_shortcut(self) -> None:
        """Whether the toggle's shortcut works (checked at start and every SHORTCUT_CHECK_MS: walking Krita's
        actions takes milliseconds, too long for every stroke)."""
        note, problem = shortcut_note(Krita.instance())
        self.shortcut_label.setText(note)
        self.shortcut_label.setStyleSheet("color: #e0584b;" if problem else "")
        self.shortcut_label.setVisible(bool(note))

    def _refresh_candidates(self) -> None:
        self._updating = True
        try:
            # a progressive render's later candidates join the list: the one the artist chose stays chosen
            items = [self.candidate_list.item(i) for i in range(self.candidate_list.count())]
            shown = [item.text() for item in items if item is not None]
            names = [candidate.name for candidate in self.controller.candidates]
            row = self.candidate_list.currentRow() if shown and shown == names[:len(shown)] else -1
            self.candidate_list.clear()
            for candidate in self.controller.candidates:
                item = QListWidgetItem(QIcon(QPixmap.fromImage(candidate.thumbnail)), candidate.name)
                self.candidate_list.addItem(item)
            if self.controller.candidates:
                self.candidate_list.setCurrentRow(max(row, 0))
                if row < 0:
                    self.tabs.setCurrentIndex(1)
        finally:
            self._updating = False
        self.keep_button.setEnabled(bool(self.controller.candidates))

    def _refresh_layer_lists(self) -> None:
        if not self.isVisible() and self.sketch_combo.count():
            return
        document = Krita.instance().activeDocument()
        layers = canvas.paint_layers(document) if document is not None else []
        entries = [(layer.name(), canvas.node_id(layer)) for layer in layers]
        reading = self.controller.sketch_layer(document) if document is not None else None
        active = f"Active layer (reads '{reading.name()}')" if reading is not None else "Active layer"
        self._fill(self.sketch_combo, [(active, ACTIVE_LAYER)] + entries, self.controller.sketch_id or ACTIVE_LAYER)
        hints = [(f'"{canvas.HINTS_LAYER}" (when it exists)', ACTIVE_LAYER)] + entries
        self._fill(self.hints_combo, hints, self.controller.hints_id or ACTIVE_LAYER)
        self._fill(self.photo_combo, [("Active layer", ACTIVE_LAYER)] + entries, self.controller.photo_id or ACTIVE_LAYER)

    def _fill(self, combo: QComboBox, entries: list[tuple[str, str]], current: str) -> None:
        if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] == entries:
            return
        combo.blockSignals(True)
        combo.clear()
        for text, data in entries:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)


def toggle_guidance_everywhere() -> None:
    for docker in OPEN_DOCKERS:
        docker.controller.toggle_guidance()


def docker_of(krita: Optional[Any] = None) -> Optional[AniSketchDocker]:
    """The first AniSketch docker (for scripts and the test driver)."""
    return OPEN_DOCKERS[0] if OPEN_DOCKERS else None
