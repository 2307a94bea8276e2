"""Chinese inpatient-record coding (JointCoder workflow) on the same stage interfaces."""
