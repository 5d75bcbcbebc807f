#!/usr/bin/python3
"""The MSK IAM token as the AWS MSK IAM SASL signer (Python) makes it, with botocore's
SigV4QueryAuth at a fixed time: the reference our C++ token must equal byte for byte.
Usage: msk_token_botocore.py ACCESS_KEY SECRET TOKEN|- REGION UNIX_SECONDS USER_AGENT"""
import base64
import datetime
import sys
from urllib.parse import parse_qs, urlencode, urlparse

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

access, secret, token, region, seconds, user_agent = sys.argv[1:7]
fixed = datetime.datetime.utcfromtimestamp(int(seconds))


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return fixed


botocore.auth.datetime.datetime = FixedDatetime
credentials = Credentials(access, secret, None if token == "-" else token)
request = AWSRequest(method="GET", url=f"https://kafka.{region}.amazonaws.com/",
                     params={"Action": "kafka-cluster:Connect"})
botocore.auth.SigV4QueryAuth(credentials, "kafka-cluster", region, expires=900).add_auth(request)
# What aws-msk-iam-sasl-signer-python does with the presigned URL:
url = urlparse(request.url)
query = parse_qs(url.query)
query["User-Agent"] = user_agent
signed_url = url._replace(query=urlencode(query, doseq=True)).geturl()
print(base64.urlsafe_b64encode(signed_url.encode("utf-8")).decode("utf-8").rstrip("="))
