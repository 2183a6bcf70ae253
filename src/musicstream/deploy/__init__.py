"""Infrastructure as code: the AWS stack musicstream runs on, as a CloudFormation template.

``musicstream deploy print`` renders it; ``template.build_template()`` is the dict.
"""
