from enum import StrEnum


class SubscriberStatus(StrEnum):
    FREE_SUBSCRIBER = "free_subscriber"
    PAID_SUBSCRIBER = "paid_subscriber"
    UNSUBSCRIBED_SUBSCRIBER = "unsubscribed_subscriber"

    def __str__(self) -> str:
        return str(self.value)
