"""Events other layers record (the audit trail lives in portal, which accounts must not
import): each is sent with the request and the user concerned."""

from django.dispatch import Signal

invitation_accepted = Signal()  # sender=User, request=, user=
password_changed = Signal()  # sender=User, request=, user=
access_changed = Signal()  # sender=User, request=, user=, clinic_ids= (roles, groups or memberships)
second_step_changed = (
    Signal()
)  # sender=User, request=, user=, event= "set_up" | "passed" | "recovery_code_used"
patient_added = Signal()  # sender=User, patient= (sent inside the transaction that created them)
