"""What this app plugs into: the enrollment completion hook and the profile hook."""

from stormcert.accounts.hooks import on_profile_changed
from stormcert.certificates import services
from stormcert.enrollments.hooks import on_enrollment_completed

on_enrollment_completed(services.issue_for_completion)
on_profile_changed(services.refresh_directory_entries)
