from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic, Membership, User
from portal.interop import services


class Command(BaseCommand):
    help = "Create an API client for a clinic's record system and print its token (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, help="The clinic's name.")
        parser.add_argument("--name", required=True, help="The record system's name, e.g. 'Clinic EHR'.")
        parser.add_argument("--read", action="store_true", help="May read the clinic's records (FHIR).")
        parser.add_argument("--write", action="store_true", help="May send clinical events.")
        parser.add_argument(
            "--by", help="Email of the clinic admin creating it (default: the clinic's first)."
        )

    def handle(self, *args, clinic, name, read, write, by=None, **options):
        found = Clinic.objects.filter(name=clinic).first()
        if found is None:
            raise CommandError(f"No clinic is named “{clinic}”.")
        admins = User.objects.filter(memberships__clinic=found, memberships__role=Membership.Role.ADMIN)
        admin = admins.filter(email=by).first() if by else admins.order_by("pk").first()
        if admin is None:
            raise CommandError(f"{by or 'Nobody'} is not a clinic admin of {found}.")
        try:
            new = services.create_client(
                clinic=found, name=name, can_read=read, can_write=write, created_by=admin
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"API client “{new.client.name}” of {found} ({', '.join(new.client.scopes)}).")
        self.stdout.write("Token (shown once, keep it secret):")
        self.stdout.write(new.token)
