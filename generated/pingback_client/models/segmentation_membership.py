from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SegmentationMembership")


@_attrs_define
class SegmentationMembership:
    """A subscriber's membership of a segmentation list.

    Attributes:
        id (str):
        email (str):
        subscriber_id (str):
        segmentation_list_id (str):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: str
    email: str
    subscriber_id: str
    segmentation_list_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        email = self.email

        subscriber_id = self.subscriber_id

        segmentation_list_id = self.segmentation_list_id

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "email": email,
                "subscriberId": subscriber_id,
                "segmentationListId": segmentation_list_id,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        email = d.pop("email")

        subscriber_id = d.pop("subscriberId")

        segmentation_list_id = d.pop("segmentationListId")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        segmentation_membership = cls(
            id=id,
            email=email,
            subscriber_id=subscriber_id,
            segmentation_list_id=segmentation_list_id,
            created_at=created_at,
            updated_at=updated_at,
        )

        segmentation_membership.additional_properties = d
        return segmentation_membership

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
