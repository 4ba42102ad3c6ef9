from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SegmentationListsInput")


@_attrs_define
class SegmentationListsInput:
    """Segmentation list IDs to add a subscriber to.

    Attributes:
        segmentation_lists (list[str]): List of segmentation lists IDs. You can get the ID by calling our support team.
            Example: ['ff37b0a8-de19-4f72-a7ed-0bd1cb73f29f', 'ff37b0a8-de19-4f72-a7ed-0bd1cb73f29f'].
    """

    segmentation_lists: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        segmentation_lists = self.segmentation_lists

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "segmentationLists": segmentation_lists,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        segmentation_lists = cast(list[str], d.pop("segmentationLists"))

        segmentation_lists_input = cls(
            segmentation_lists=segmentation_lists,
        )

        segmentation_lists_input.additional_properties = d
        return segmentation_lists_input

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
