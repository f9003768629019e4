"""Generated google.rpc modules: status_pb2, error_details_pb2."""
