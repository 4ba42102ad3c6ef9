"""Contains all the data models used in inputs/outputs"""

from .custom_field import CustomField
from .custom_field_input import CustomFieldInput
from .error import Error
from .segmentation_lists_input import SegmentationListsInput
from .segmentation_membership import SegmentationMembership
from .segmentation_membership_list import SegmentationMembershipList
from .segmentation_membership_response import SegmentationMembershipResponse
from .subscriber import Subscriber
from .subscriber_create import SubscriberCreate
from .subscriber_response import SubscriberResponse
from .subscriber_status import SubscriberStatus
from .subscriber_update import SubscriberUpdate

__all__ = (
    "CustomField",
    "CustomFieldInput",
    "Error",
    "SegmentationListsInput",
    "SegmentationMembership",
    "SegmentationMembershipList",
    "SegmentationMembershipResponse",
    "Subscriber",
    "SubscriberCreate",
    "SubscriberResponse",
    "SubscriberStatus",
    "SubscriberUpdate",
)
