"""Signals members sends, so that other apps can act on members' events without members
importing them (staff imports members, never the reverse)."""

from django.dispatch import Signal

# Sent by members.services.distributor_register inside its transaction, after the distributor
# is saved, with:
#   distributor: the new Distributor;
#   request: the signup's HttpRequest, or None when registered outside a request;
#   chosen_owner: the staff User the buyer picked as their contact at signup, or None.
# A receiver that raises rolls the registration back, so receivers must only fail for errors
# that should stop a signup.
distributor_registered = Signal()
