from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.subscriber_response import SubscriberResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    email: str,
    *,
    x_developer_mode: bool | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_developer_mode, Unset):
        headers["x-developer-mode"] = "true" if x_developer_mode else "false"

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/subscriber/{email}".format(
            email=quote(str(email), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | SubscriberResponse | None:
    if response.status_code == 200:
        response_200 = SubscriberResponse.from_dict(response.json())

        return response_200

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | SubscriberResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    email: str,
    *,
    client: AuthenticatedClient,
    x_developer_mode: bool | Unset = UNSET,
) -> Response[Error | SubscriberResponse]:
    """Get a subscriber

     Get a subscriber by email

    Args:
        email (str):
        x_developer_mode (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SubscriberResponse]
    """

    kwargs = _get_kwargs(
        email=email,
        x_developer_mode=x_developer_mode,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    email: str,
    *,
    client: AuthenticatedClient,
    x_developer_mode: bool | Unset = UNSET,
) -> Error | SubscriberResponse | None:
    """Get a subscriber

     Get a subscriber by email

    Args:
        email (str):
        x_developer_mode (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SubscriberResponse
    """

    return sync_detailed(
        email=email,
        client=client,
        x_developer_mode=x_developer_mode,
    ).parsed


async def asyncio_detailed(
    email: str,
    *,
    client: AuthenticatedClient,
    x_developer_mode: bool | Unset = UNSET,
) -> Response[Error | SubscriberResponse]:
    """Get a subscriber

     Get a subscriber by email

    Args:
        email (str):
        x_developer_mode (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SubscriberResponse]
    """

    kwargs = _get_kwargs(
        email=email,
        x_developer_mode=x_developer_mode,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    email: str,
    *,
    client: AuthenticatedClient,
    x_developer_mode: bool | Unset = UNSET,
) -> Error | SubscriberResponse | None:
    """Get a subscriber

     Get a subscriber by email

    Args:
        email (str):
        x_developer_mode (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SubscriberResponse
    """

    return (
        await asyncio_detailed(
            email=email,
            client=client,
            x_developer_mode=x_developer_mode,
        )
    ).parsed
