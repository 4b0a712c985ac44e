"""Uploaded PDFs: the checks every upload passes, the name it is stored under, and how it is served.

One place for all of it so that every app accepting documents (ToR statements of
qualifications, accommodation evidence) refuses the same files with the same words and serves
them with the same headers. Files live under MEDIA_ROOT, which no URL serves: each app serves
its documents through a view that first checks who may read them, then calls `pdf_response`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import FileResponse

PDF_MAGIC = b"%PDF-"


class UploadRefused(ValueError):
    """The file cannot be kept; the message says why in words the uploader can act on."""


@dataclass(frozen=True)
class CheckedPdf:
    original_name: str
    size: int
    sha256: str


def check_pdf(upload: UploadedFile) -> CheckedPdf:
    """Accept a PDF under the size cap. The type is judged from the content, not the name or the
    browser's content type (both are the uploader's to choose)."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise UploadRefused("The file is empty.")
    if upload.size > limit:
        raise UploadRefused(
            f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {limit // 1_048_576} MB."
        )
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head != PDF_MAGIC:
        raise UploadRefused("Only PDF documents are accepted (the file does not start like a PDF).")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedPdf(
        original_name=(upload.name or "document.pdf")[:255], size=upload.size, sha256=digest.hexdigest()
    )


class SupportingPdfField(forms.FileField):
    """An optional supporting PDF on a request form. Checked as the form is cleaned (the service
    checks again) so the message sits next to the field."""

    def __init__(self, *, help_text: str) -> None:
        super().__init__(
            label="Supporting document (PDF)",
            required=False,
            widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
            help_text=help_text,
        )

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            try:
                check_pdf(upload)
            except UploadRefused as exc:
                raise forms.ValidationError(
                    f"{exc} Choose the file again, or send the request without it."
                ) from None
        return upload


def note_document(instance: Any, checked: CheckedPdf | None) -> None:
    """Copy what the check learnt about a supporting PDF onto the request that keeps it (its
    `document_name`, `document_size` and `document_sha256`)."""
    if checked is not None:
        instance.document_name = checked.original_name
        instance.document_size = checked.size
        instance.document_sha256 = checked.sha256


@contextmanager
def storing_document(instance: Any, document: UploadedFile | None, *, taken: Exception) -> Iterator[None]:
    """Write the request's supporting PDF to its `document` field, then (in the `with` block) the
    rows, in one transaction. When the block fails the file is deleted again: a request that was
    not kept leaves nothing on disk. A unique constraint refusing the rows (a concurrent request
    won the race past the caller's checks) raises `taken`, the caller's "already waiting"."""
    try:
        with transaction.atomic():
            if document is not None:
                instance.document.save("upload.pdf", document, save=False)
            yield
    except BaseException as exc:
        if instance.document:
            instance.document.delete(save=False)
        if isinstance(exc, IntegrityError):
            raise taken from None
        raise


def random_pdf_name(folder: str) -> str:
    """A stored name nobody can guess or use to learn the uploader's own file name."""
    return f"{folder.strip('/')}/{uuid.uuid4().hex}.pdf"


def pdf_response(file: File, filename: str) -> FileResponse:
    """Serve a stored upload. `sandbox` keeps any script inside a hostile PDF away from our origin;
    `nosniff` stops a browser treating it as anything but the PDF we say it is."""
    response = FileResponse(file.open("rb"), content_type="application/pdf", filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
