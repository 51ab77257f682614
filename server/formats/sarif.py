def render(report):  # placeholder until written
    raise NotImplementedError
