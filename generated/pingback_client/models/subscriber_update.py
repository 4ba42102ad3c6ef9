from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.subscriber_status import SubscriberStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="SubscriberUpdate")


@_attrs_define
class SubscriberUpdate:
    """Fields of a subscriber to change.

    Attributes:
        name (str | Unset): Subscriber name Example: John Doe.
        phone (str | Unset): Subscriber phone number. It follows the E.164 format. Example: +5511999999999.
        status (SubscriberStatus | Unset): free_subscriber, paid_subscriber, or unsubscribed_subscriber (opted out).
    """

    name: str | Unset = UNSET
    phone: str | Unset = UNSET
    status: SubscriberStatus | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        phone = self.phone

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if phone is not UNSET:
            field_dict["phone"] = phone
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        phone = d.pop("phone", UNSET)

        _status = d.pop("status", UNSET)
        status: SubscriberStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = SubscriberStatus(_status)

        subscriber_update = cls(
            name=name,
            phone=phone,
            status=status,
        )

        subscriber_update.additional_properties = d
        return subscriber_update

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
