"""Settings shared by every environment, read from the environment (12-factor).

Each group links to the documentation of the settings it configures. Environment
variables are listed, with their defaults, in README.md. The groups live in modules of
this package, one per sub-domain; this module gathers them (local, production and test
settings start from it):

core       paths, env, apps, middleware, templates, language, logging, exchange rules, public address
security   secret key, hosts, passwords, sessions, webhook targets, audit transparency log
database   database and cache
storage    static, media, storage backends, uploads
api        REST framework, throttling, OpenAPI
tasks      Celery broker, queues, beat schedule (domains add their periodic tasks)
quality    quality checks and revision diffs
trading    trading and after-sales (acceptance, disputes, e-mail)
delivery   signed deliveries and Delta Sharing
"""

from .api import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .core import env  # noqa: F401  (local and production settings import it by name)
from .database import *  # noqa: F401,F403
from .delivery import *  # noqa: F401,F403
from .quality import *  # noqa: F401,F403
from .security import *  # noqa: F401,F403
from .storage import *  # noqa: F401,F403
from .storage import _default_storage  # noqa: F401  (test settings build on it)
from .tasks import *  # noqa: F401,F403
from .trading import *  # noqa: F401,F403
