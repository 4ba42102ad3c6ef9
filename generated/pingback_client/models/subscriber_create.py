from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.subscriber_status import SubscriberStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.custom_field_input import CustomFieldInput


T = TypeVar("T", bound="SubscriberCreate")


@_attrs_define
class SubscriberCreate:
    """A subscriber to create (the server assigns id and timestamps).

    Attributes:
        email (str): Subscriber email address Example: example@email.com.
        phone (str | Unset): Subscriber phone number. It follows the E.164 format. Example: +5511999999999.
        name (str | Unset): Subscriber name Example: John Doe.
        status (SubscriberStatus | Unset): free_subscriber, paid_subscriber, or unsubscribed_subscriber (opted out).
        custom_fields (list[CustomFieldInput] | Unset): List of custom fields. Each custom field has a label, and value.
        segmentation_lists (list[str] | Unset):
    """

    email: str
    phone: str | Unset = UNSET
    name: str | Unset = UNSET
    status: SubscriberStatus | Unset = UNSET
    custom_fields: list[CustomFieldInput] | Unset = UNSET
    segmentation_lists: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        phone = self.phone

        name = self.name

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        custom_fields: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.custom_fields, Unset):
            custom_fields = []
            for custom_fields_item_data in self.custom_fields:
                custom_fields_item = custom_fields_item_data.to_dict()
                custom_fields.append(custom_fields_item)

        segmentation_lists: list[str] | Unset = UNSET
        if not isinstance(self.segmentation_lists, Unset):
            segmentation_lists = self.segmentation_lists

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "email": email,
            }
        )
        if phone is not UNSET:
            field_dict["phone"] = phone
        if name is not UNSET:
            field_dict["name"] = name
        if status is not UNSET:
            field_dict["status"] = status
        if custom_fields is not UNSET:
            field_dict["customFields"] = custom_fields
        if segmentation_lists is not UNSET:
            field_dict["segmentationLists"] = segmentation_lists

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.custom_field_input import CustomFieldInput

        d = dict(src_dict)
        email = d.pop("email")

        phone = d.pop("phone", UNSET)

        name = d.pop("name", UNSET)

        _status = d.pop("status", UNSET)
        status: SubscriberStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = SubscriberStatus(_status)

        _custom_fields = d.pop("customFields", UNSET)
        custom_fields: list[CustomFieldInput] | Unset = UNSET
        if _custom_fields is not UNSET:
            custom_fields = []
            for custom_fields_item_data in _custom_fields:
                custom_fields_item = CustomFieldInput.from_dict(custom_fields_item_data)

                custom_fields.append(custom_fields_item)

        segmentation_lists = cast(list[str], d.pop("segmentationLists", UNSET))

        subscriber_create = cls(
            email=email,
            phone=phone,
            name=name,
            status=status,
            custom_fields=custom_fields,
            segmentation_lists=segmentation_lists,
        )

        subscriber_create.additional_properties = d
        return subscriber_create

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
