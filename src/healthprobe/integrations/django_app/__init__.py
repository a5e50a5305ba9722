"""The optional Django app of healthprobe (INSTALLED_APPS: "healthprobe.integrations.django_app").

See :mod:`healthprobe.integrations.django` for what it does.
"""

from __future__ import annotations
