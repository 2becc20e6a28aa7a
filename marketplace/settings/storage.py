"""Static files, media and the storage API (local or S3), and uploads."""

from pathlib import Path

from .core import BASE_DIR, VAR_DIR, env

# --- Static and media (storage API) -----------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
# Dataset files and delivery packages go through STORAGES["default"]; nothing assumes the
# web process and the worker share a disk. STORAGE_BACKEND=s3 switches to django-storages.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            # "path" for servers without virtual-host buckets (MinIO, moto, Ceph behind one name).
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Where a process copies a stored object it needs as a seekable local file (exchange.storage.
# local_copy): its own disk, never MEDIA_ROOT. None: the system's temp dir (TMPDIR).
STORAGE_TMP_DIR = env.str("STORAGE_TMP_DIR", default=None)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads ---------------------------------------------------------------
# Uploads are streamed to temporary files (never held in memory) and hashed while read.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=2 * 1024**3)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)
FILE_UPLOAD_HANDLERS = ["exchange.uploads.HashingTemporaryFileUploadHandler"]
