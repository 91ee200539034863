"""pytest, for every test and notebook: jupyter_client's waits in short polls (nbmake executes the chapters).

See ``book/_ext/celltimeouts.py`` (:func:`patch_polling`): a zmq message whose wake-up the event loop
missed would otherwise wait for the whole cell limit, with the kernel idle.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "book" / "_ext"))
import celltimeouts  # noqa: E402

sys.path.pop(0)
celltimeouts.patch_polling()
