"""The Qt binding, in one place: Krita 5 embeds PyQt5, Krita 6 PyQt6.

Code elsewhere imports Qt names from here and uses scoped enums (`Qt.AlignmentFlag.AlignLeft`), which both
bindings accept.
"""

from __future__ import annotations

try:
    from PyQt5.QtCore import (QByteArray, QEvent, QObject, QRect, QSocketNotifier, QSize, Qt, QTimer,
                              pyqtSignal as Signal)
    from PyQt5.QtGui import QBitmap, QColor, QIcon, QImage, QPainter, QPixmap, QRegion
    from PyQt5.QtWidgets import (QAction, QApplication, QButtonGroup, QCheckBox, QComboBox, QFormLayout, QFrame, QGridLayout,
                                 QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                                 QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox, QTabWidget,
                                 QToolButton, QVBoxLayout, QWidget)

    from PyQt5 import sip

    QT_BINDING = "PyQt5"
except ImportError:  # Krita 6
    from PyQt6.QtCore import (QByteArray, QEvent, QObject, QRect, QSocketNotifier, QSize, Qt, QTimer,  # type: ignore
                              pyqtSignal as Signal)
    from PyQt6.QtGui import QAction, QBitmap, QColor, QIcon, QImage, QPainter, QPixmap, QRegion  # type: ignore
    from PyQt6.QtWidgets import (QApplication, QButtonGroup, QCheckBox, QComboBox, QFormLayout, QFrame,  # type: ignore
                                 QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                                 QListWidgetItem, QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox,
                                 QTabWidget, QToolButton, QVBoxLayout, QWidget)

    from PyQt6 import sip  # type: ignore

    QT_BINDING = "PyQt6"

__all__ = [
    "QT_BINDING", "QAction", "QApplication", "QBitmap", "QRegion", "QButtonGroup", "QByteArray", "QCheckBox", "QColor", "QComboBox", "QEvent", "QFormLayout",
    "QFrame", "QGridLayout", "QGroupBox", "QHBoxLayout", "QIcon", "QImage", "QLabel", "QLineEdit", "QListWidget",
    "QListWidgetItem", "QObject", "QPainter", "QPixmap", "QProgressBar", "QPushButton", "QRect", "QScrollArea", "QSize",
    "QSlider", "QSocketNotifier", "QSpinBox", "QTabWidget", "QTimer", "QToolButton", "QVBoxLayout", "QWidget",
    "Qt", "Signal", "sip",
]
