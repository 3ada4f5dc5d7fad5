"""Coaching delivered where teams talk: 企业微信, 钉钉 and 飞书 group robots.

- platforms: each robot's message format, signing, size limit and answers;
- fitting: dealcoach markdown in each platform's markdown, trimmed to its limit;
- channels: the channels file and environment (webhooks and secrets never on the command line);
- sending: paced, retried, one outcome per message.
"""

from .channels import Channel, ChannelError, channel_named
from .sending import Delivery, Message, Sender

__all__ = ["Channel", "ChannelError", "Delivery", "Message", "Sender", "channel_named"]
