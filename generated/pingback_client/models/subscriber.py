from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.subscriber_status import SubscriberStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.custom_field import CustomField


T = TypeVar("T", bound="Subscriber")


@_attrs_define
class Subscriber:
    """
    Attributes:
        id (str):
        email (str): Subscriber email address Example: example@email.com.
        created_at (datetime.datetime): Subscriber creation date
        updated_at (datetime.datetime): Subscriber update date
        phone (str | Unset): Subscriber phone number. It follows the E.164 format. Example: +5511999999999.
        name (str | Unset): Subscriber name Example: John Doe.
        status (SubscriberStatus | Unset): free_subscriber, paid_subscriber, or unsubscribed_subscriber (opted out).
        custom_fields (list[CustomField] | Unset):
        segmentation_lists (list[str] | Unset):
        blacklisted_at (datetime.datetime | Unset): Subscriber blacklisted date
        unsubscribed_at (datetime.datetime | Unset): Subscriber unsubscribed date
    """

    id: str
    email: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    phone: str | Unset = UNSET
    name: str | Unset = UNSET
    status: SubscriberStatus | Unset = UNSET
    custom_fields: list[CustomField] | Unset = UNSET
    segmentation_lists: list[str] | Unset = UNSET
    blacklisted_at: datetime.datetime | Unset = UNSET
    unsubscribed_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        email = self.email

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        phone = self.phone

        name = self.name

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        custom_fields: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.custom_fields, Unset):
            custom_fields = []
            for componentsschemas_custom_fields_item_data in self.custom_fields:
                componentsschemas_custom_fields_item = (
                    componentsschemas_custom_fields_item_data.to_dict()
                )
                custom_fields.append(componentsschemas_custom_fields_item)

        segmentation_lists: list[str] | Unset = UNSET
        if not isinstance(self.segmentation_lists, Unset):
            segmentation_lists = self.segmentation_lists

        blacklisted_at: str | Unset = UNSET
        if not isinstance(self.blacklisted_at, Unset):
            blacklisted_at = self.blacklisted_at.isoformat()

        unsubscribed_at: str | Unset = UNSET
        if not isinstance(self.unsubscribed_at, Unset):
            unsubscribed_at = self.unsubscribed_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "email": email,
                "createdAt": created_at,
                "updatedAt": updated_at,
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
        if blacklisted_at is not UNSET:
            field_dict["blacklistedAt"] = blacklisted_at
        if unsubscribed_at is not UNSET:
            field_dict["unsubscribedAt"] = unsubscribed_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.custom_field import CustomField

        d = dict(src_dict)
        id = d.pop("id")

        email = d.pop("email")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        phone = d.pop("phone", UNSET)

        name = d.pop("name", UNSET)

        _status = d.pop("status", UNSET)
        status: SubscriberStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = SubscriberStatus(_status)

        _custom_fields = d.pop("customFields", UNSET)
        custom_fields: list[CustomField] | Unset = UNSET
        if _custom_fields is not UNSET:
            custom_fields = []
            for componentsschemas_custom_fields_item_data in _custom_fields:
                componentsschemas_custom_fields_item = CustomField.from_dict(
                    componentsschemas_custom_fields_item_data
                )

                custom_fields.append(componentsschemas_custom_fields_item)

        segmentation_lists = cast(list[str], d.pop("segmentationLists", UNSET))

        _blacklisted_at = d.pop("blacklistedAt", UNSET)
        blacklisted_at: datetime.datetime | Unset
        if isinstance(_blacklisted_at, Unset):
            blacklisted_at = UNSET
        else:
            blacklisted_at = datetime.datetime.fromisoformat(_blacklisted_at)

        _unsubscribed_at = d.pop("unsubscribedAt", UNSET)
        unsubscribed_at: datetime.datetime | Unset
        if isinstance(_unsubscribed_at, Unset):
            unsubscribed_at = UNSET
        else:
            unsubscribed_at = datetime.datetime.fromisoformat(_unsubscribed_at)

        subscriber = cls(
            id=id,
            email=email,
            created_at=created_at,
            updated_at=updated_at,
            phone=phone,
            name=name,
            status=status,
            custom_fields=custom_fields,
            segmentation_lists=segmentation_lists,
            blacklisted_at=blacklisted_at,
            unsubscribed_at=unsubscribed_at,
        )

        subscriber.additional_properties = d
        return subscriber

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
