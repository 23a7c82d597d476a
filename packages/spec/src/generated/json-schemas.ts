// Generated from the zod schemas in src/schema by `pnpm --filter @runc-ts/spec generate`.
// Do not edit: src/validate/generated.test.ts fails when this file is stale.
import type { JsonSchema } from '../validate/check.js';

export const configJsonSchema: JsonSchema = {
 "type": "object",
 "properties": {
  "ociVersion": {
   "type": "string"
  },
  "root": {
   "type": "object",
   "properties": {
    "path": {
     "type": "string"
    },
    "readonly": {
     "type": "boolean"
    }
   },
   "required": [
    "path"
   ],
   "additionalProperties": {}
  },
  "mounts": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "destination": {
      "type": "string"
     },
     "source": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "options": {
      "$ref": "#/$defs/__schema0"
     },
     "uidMappings": {
      "type": "array",
      "items": {
       "$ref": "#/$defs/__schema1"
      }
     },
     "gidMappings": {
      "type": "array",
      "items": {
       "$ref": "#/$defs/__schema1"
      }
     }
    },
    "required": [
     "destination"
    ],
    "additionalProperties": {}
   }
  },
  "process": {
   "type": "object",
   "properties": {
    "terminal": {
     "type": "boolean"
    },
    "consoleSize": {
     "type": "object",
     "properties": {
      "height": {
       "$ref": "#/$defs/__schema3"
      },
      "width": {
       "$ref": "#/$defs/__schema3"
      }
     },
     "required": [
      "height",
      "width"
     ],
     "additionalProperties": {}
    },
    "user": {
     "type": "object",
     "properties": {
      "uid": {
       "$ref": "#/$defs/__schema2"
      },
      "gid": {
       "$ref": "#/$defs/__schema2"
      },
      "umask": {
       "$ref": "#/$defs/__schema2"
      },
      "additionalGids": {
       "type": "array",
       "items": {
        "$ref": "#/$defs/__schema2"
       }
      },
      "username": {
       "type": "string"
      }
     },
     "additionalProperties": {}
    },
    "args": {
     "$ref": "#/$defs/__schema0"
    },
    "commandLine": {
     "type": "string"
    },
    "env": {
     "$ref": "#/$defs/__schema0"
    },
    "cwd": {
     "type": "string"
    },
    "capabilities": {
     "type": "object",
     "properties": {
      "bounding": {
       "$ref": "#/$defs/__schema0"
      },
      "effective": {
       "$ref": "#/$defs/__schema0"
      },
      "inheritable": {
       "$ref": "#/$defs/__schema0"
      },
      "permitted": {
       "$ref": "#/$defs/__schema0"
      },
      "ambient": {
       "$ref": "#/$defs/__schema0"
      }
     },
     "additionalProperties": {}
    },
    "rlimits": {
     "type": "array",
     "items": {
      "type": "object",
      "properties": {
       "type": {
        "type": "string",
        "pattern": "^RLIMIT_[A-Z]+$"
       },
       "soft": {
        "$ref": "#/$defs/__schema3"
       },
       "hard": {
        "$ref": "#/$defs/__schema3"
       }
      },
      "required": [
       "type",
       "soft",
       "hard"
      ],
      "additionalProperties": {}
     }
    },
    "noNewPrivileges": {
     "type": "boolean"
    },
    "apparmorProfile": {
     "type": "string"
    },
    "oomScoreAdj": {
     "type": "integer"
    },
    "scheduler": {
     "type": "object",
     "properties": {
      "policy": {
       "type": "string",
       "enum": [
        "SCHED_OTHER",
        "SCHED_FIFO",
        "SCHED_RR",
        "SCHED_BATCH",
        "SCHED_ISO",
        "SCHED_IDLE",
        "SCHED_DEADLINE"
       ]
      },
      "nice": {
       "$ref": "#/$defs/__schema4"
      },
      "priority": {
       "$ref": "#/$defs/__schema4"
      },
      "flags": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "SCHED_FLAG_RESET_ON_FORK",
         "SCHED_FLAG_RECLAIM",
         "SCHED_FLAG_DL_OVERRUN",
         "SCHED_FLAG_KEEP_POLICY",
         "SCHED_FLAG_KEEP_PARAMS",
         "SCHED_FLAG_UTIL_CLAMP_MIN",
         "SCHED_FLAG_UTIL_CLAMP_MAX"
        ]
       }
      },
      "runtime": {
       "$ref": "#/$defs/__schema3"
      },
      "deadline": {
       "$ref": "#/$defs/__schema3"
      },
      "period": {
       "$ref": "#/$defs/__schema3"
      }
     },
     "required": [
      "policy"
     ],
     "additionalProperties": {}
    },
    "selinuxLabel": {
     "type": "string"
    },
    "ioPriority": {
     "type": "object",
     "properties": {
      "class": {
       "type": "string",
       "enum": [
        "IOPRIO_CLASS_RT",
        "IOPRIO_CLASS_BE",
        "IOPRIO_CLASS_IDLE"
       ]
      },
      "priority": {
       "$ref": "#/$defs/__schema4"
      }
     },
     "required": [
      "class"
     ],
     "additionalProperties": {}
    },
    "execCPUAffinity": {
     "type": "object",
     "properties": {
      "initial": {
       "$ref": "#/$defs/__schema5"
      },
      "final": {
       "$ref": "#/$defs/__schema5"
      }
     },
     "additionalProperties": {}
    }
   },
   "required": [
    "cwd"
   ],
   "additionalProperties": {}
  },
  "hostname": {
   "type": "string"
  },
  "domainname": {
   "type": "string"
  },
  "hooks": {
   "type": "object",
   "properties": {
    "prestart": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema6"
     }
    },
    "createRuntime": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema6"
     }
    },
    "createContainer": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema6"
     }
    },
    "startContainer": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema6"
     }
    },
    "poststart": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema6"
     }
    },
    "poststop": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema6"
     }
    }
   },
   "additionalProperties": {}
  },
  "annotations": {
   "$ref": "#/$defs/__schema7"
  },
  "linux": {
   "type": "object",
   "properties": {
    "namespaces": {
     "type": "array",
     "items": {
      "type": "object",
      "properties": {
       "type": {
        "type": "string",
        "enum": [
         "mount",
         "pid",
         "network",
         "uts",
         "ipc",
         "user",
         "cgroup",
         "time"
        ]
       },
       "path": {
        "type": "string"
       }
      },
      "required": [
       "type"
      ],
      "additionalProperties": {}
     }
    },
    "uidMappings": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema1"
     }
    },
    "gidMappings": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema1"
     }
    },
    "timeOffsets": {
     "type": "object",
     "properties": {
      "boottime": {
       "$ref": "#/$defs/__schema8"
      },
      "monotonic": {
       "$ref": "#/$defs/__schema8"
      }
     },
     "additionalProperties": {}
    },
    "devices": {
     "type": "array",
     "items": {
      "type": "object",
      "properties": {
       "type": {
        "type": "string",
        "pattern": "^[cbup]$"
       },
       "path": {
        "type": "string"
       },
       "major": {
        "$ref": "#/$defs/__schema9"
       },
       "minor": {
        "$ref": "#/$defs/__schema9"
       },
       "fileMode": {
        "type": "integer",
        "minimum": 0,
        "maximum": 511,
        "format": "file mode (0 to 511, decimal)"
       },
       "uid": {
        "$ref": "#/$defs/__schema2"
       },
       "gid": {
        "$ref": "#/$defs/__schema2"
       }
      },
      "required": [
       "type",
       "path"
      ],
      "additionalProperties": {}
     }
    },
    "netDevices": {
     "type": "object",
     "propertyNames": {
      "type": "string"
     },
     "additionalProperties": {
      "type": "object",
      "properties": {
       "name": {
        "type": "string"
       }
      },
      "additionalProperties": {}
     }
    },
    "cgroupsPath": {
     "type": "string"
    },
    "resources": {
     "type": "object",
     "properties": {
      "devices": {
       "type": "array",
       "items": {
        "type": "object",
        "properties": {
         "allow": {
          "type": "boolean"
         },
         "type": {
          "type": "string"
         },
         "major": {
          "$ref": "#/$defs/__schema9"
         },
         "minor": {
          "$ref": "#/$defs/__schema9"
         },
         "access": {
          "type": "string"
         }
        },
        "required": [
         "allow"
        ],
        "additionalProperties": {}
       }
      },
      "memory": {
       "type": "object",
       "properties": {
        "limit": {
         "$ref": "#/$defs/__schema9"
        },
        "reservation": {
         "$ref": "#/$defs/__schema9"
        },
        "swap": {
         "$ref": "#/$defs/__schema9"
        },
        "kernel": {
         "$ref": "#/$defs/__schema9"
        },
        "kernelTCP": {
         "$ref": "#/$defs/__schema9"
        },
        "swappiness": {
         "$ref": "#/$defs/__schema3"
        },
        "disableOOMKiller": {
         "type": "boolean"
        },
        "useHierarchy": {
         "type": "boolean"
        },
        "checkBeforeUpdate": {
         "type": "boolean"
        }
       },
       "additionalProperties": {}
      },
      "cpu": {
       "type": "object",
       "properties": {
        "shares": {
         "$ref": "#/$defs/__schema3"
        },
        "quota": {
         "$ref": "#/$defs/__schema9"
        },
        "burst": {
         "$ref": "#/$defs/__schema3"
        },
        "period": {
         "$ref": "#/$defs/__schema3"
        },
        "realtimeRuntime": {
         "$ref": "#/$defs/__schema9"
        },
        "realtimePeriod": {
         "$ref": "#/$defs/__schema3"
        },
        "cpus": {
         "type": "string"
        },
        "mems": {
         "type": "string"
        },
        "idle": {
         "$ref": "#/$defs/__schema9"
        }
       },
       "additionalProperties": {}
      },
      "pids": {
       "type": "object",
       "properties": {
        "limit": {
         "$ref": "#/$defs/__schema9"
        }
       },
       "required": [
        "limit"
       ],
       "additionalProperties": {}
      },
      "blockIO": {
       "type": "object",
       "properties": {
        "weight": {
         "$ref": "#/$defs/__schema10"
        },
        "leafWeight": {
         "$ref": "#/$defs/__schema10"
        },
        "weightDevice": {
         "type": "array",
         "items": {
          "type": "object",
          "properties": {
           "major": {
            "$ref": "#/$defs/__schema9"
           },
           "minor": {
            "$ref": "#/$defs/__schema9"
           },
           "weight": {
            "$ref": "#/$defs/__schema10"
           },
           "leafWeight": {
            "$ref": "#/$defs/__schema10"
           }
          },
          "required": [
           "major",
           "minor"
          ],
          "additionalProperties": {}
         }
        },
        "throttleReadBpsDevice": {
         "type": "array",
         "items": {
          "$ref": "#/$defs/__schema11"
         }
        },
        "throttleWriteBpsDevice": {
         "type": "array",
         "items": {
          "$ref": "#/$defs/__schema11"
         }
        },
        "throttleReadIOPSDevice": {
         "type": "array",
         "items": {
          "$ref": "#/$defs/__schema11"
         }
        },
        "throttleWriteIOPSDevice": {
         "type": "array",
         "items": {
          "$ref": "#/$defs/__schema11"
         }
        }
       },
       "additionalProperties": {}
      },
      "hugepageLimits": {
       "type": "array",
       "items": {
        "type": "object",
        "properties": {
         "pageSize": {
          "type": "string",
          "pattern": "^[1-9][0-9]*[KMG]B$"
         },
         "limit": {
          "$ref": "#/$defs/__schema3"
         }
        },
        "required": [
         "pageSize",
         "limit"
        ],
        "additionalProperties": {}
       }
      },
      "network": {
       "type": "object",
       "properties": {
        "classID": {
         "$ref": "#/$defs/__schema2"
        },
        "priorities": {
         "type": "array",
         "items": {
          "type": "object",
          "properties": {
           "name": {
            "type": "string"
           },
           "priority": {
            "$ref": "#/$defs/__schema2"
           }
          },
          "required": [
           "name",
           "priority"
          ],
          "additionalProperties": {}
         }
        }
       },
       "additionalProperties": {}
      },
      "rdma": {
       "type": "object",
       "propertyNames": {
        "type": "string"
       },
       "additionalProperties": {
        "type": "object",
        "properties": {
         "hcaHandles": {
          "$ref": "#/$defs/__schema2"
         },
         "hcaObjects": {
          "$ref": "#/$defs/__schema2"
         }
        },
        "additionalProperties": {}
       }
      },
      "unified": {
       "$ref": "#/$defs/__schema7"
      }
     },
     "additionalProperties": {}
    },
    "rootfsPropagation": {
     "type": "string",
     "enum": [
      "private",
      "rprivate",
      "shared",
      "rshared",
      "slave",
      "rslave",
      "unbindable",
      "runbindable"
     ]
    },
    "seccomp": {
     "type": "object",
     "properties": {
      "defaultAction": {
       "$ref": "#/$defs/__schema12"
      },
      "defaultErrnoRet": {
       "$ref": "#/$defs/__schema2"
      },
      "architectures": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "SCMP_ARCH_X86",
         "SCMP_ARCH_X86_64",
         "SCMP_ARCH_X32",
         "SCMP_ARCH_ARM",
         "SCMP_ARCH_AARCH64",
         "SCMP_ARCH_LOONGARCH64",
         "SCMP_ARCH_M68K",
         "SCMP_ARCH_MIPS",
         "SCMP_ARCH_MIPS64",
         "SCMP_ARCH_MIPS64N32",
         "SCMP_ARCH_MIPSEL",
         "SCMP_ARCH_MIPSEL64",
         "SCMP_ARCH_MIPSEL64N32",
         "SCMP_ARCH_PPC",
         "SCMP_ARCH_PPC64",
         "SCMP_ARCH_PPC64LE",
         "SCMP_ARCH_S390",
         "SCMP_ARCH_S390X",
         "SCMP_ARCH_SH",
         "SCMP_ARCH_SHEB",
         "SCMP_ARCH_PARISC",
         "SCMP_ARCH_PARISC64",
         "SCMP_ARCH_RISCV64"
        ]
       }
      },
      "flags": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "SECCOMP_FILTER_FLAG_TSYNC",
         "SECCOMP_FILTER_FLAG_LOG",
         "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
         "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
        ]
       }
      },
      "listenerPath": {
       "type": "string"
      },
      "listenerMetadata": {
       "type": "string"
      },
      "syscalls": {
       "type": "array",
       "items": {
        "type": "object",
        "properties": {
         "names": {
          "minItems": 1,
          "type": "array",
          "items": {
           "$ref": "#/$defs/__schema13"
          }
         },
         "action": {
          "$ref": "#/$defs/__schema12"
         },
         "errnoRet": {
          "$ref": "#/$defs/__schema2"
         },
         "args": {
          "type": "array",
          "items": {
           "type": "object",
           "properties": {
            "index": {
             "$ref": "#/$defs/__schema2"
            },
            "value": {
             "$ref": "#/$defs/__schema3"
            },
            "valueTwo": {
             "$ref": "#/$defs/__schema3"
            },
            "op": {
             "type": "string",
             "enum": [
              "SCMP_CMP_NE",
              "SCMP_CMP_LT",
              "SCMP_CMP_LE",
              "SCMP_CMP_EQ",
              "SCMP_CMP_GE",
              "SCMP_CMP_GT",
              "SCMP_CMP_MASKED_EQ"
             ]
            }
           },
           "required": [
            "index",
            "value",
            "op"
           ],
           "additionalProperties": {}
          }
         }
        },
        "required": [
         "names",
         "action"
        ],
        "additionalProperties": {}
       }
      }
     },
     "required": [
      "defaultAction"
     ],
     "additionalProperties": {}
    },
    "sysctl": {
     "$ref": "#/$defs/__schema7"
    },
    "maskedPaths": {
     "$ref": "#/$defs/__schema0"
    },
    "readonlyPaths": {
     "$ref": "#/$defs/__schema0"
    },
    "mountLabel": {
     "type": "string"
    },
    "intelRdt": {
     "type": "object",
     "properties": {
      "closID": {
       "type": "string"
      },
      "schemata": {
       "$ref": "#/$defs/__schema0"
      },
      "l3CacheSchema": {
       "type": "string"
      },
      "memBwSchema": {
       "type": "string",
       "pattern": "^MB:[^\\n]*$"
      },
      "enableMonitoring": {
       "type": "boolean"
      }
     },
     "additionalProperties": {}
    },
    "personality": {
     "type": "object",
     "properties": {
      "domain": {
       "type": "string",
       "enum": [
        "LINUX",
        "LINUX32"
       ]
      },
      "flags": {
       "$ref": "#/$defs/__schema0"
      }
     },
     "additionalProperties": {}
    },
    "memoryPolicy": {
     "type": "object",
     "properties": {
      "mode": {
       "type": "string",
       "enum": [
        "MPOL_DEFAULT",
        "MPOL_BIND",
        "MPOL_INTERLEAVE",
        "MPOL_WEIGHTED_INTERLEAVE",
        "MPOL_PREFERRED",
        "MPOL_PREFERRED_MANY",
        "MPOL_LOCAL"
       ]
      },
      "nodes": {
       "type": "string"
      },
      "flags": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "MPOL_F_NUMA_BALANCING",
         "MPOL_F_RELATIVE_NODES",
         "MPOL_F_STATIC_NODES"
        ]
       }
      }
     },
     "additionalProperties": {}
    }
   },
   "additionalProperties": {}
  }
 },
 "required": [
  "ociVersion",
  "root"
 ],
 "additionalProperties": {},
 "$defs": {
  "__schema0": {
   "type": "array",
   "items": {
    "type": "string"
   }
  },
  "__schema1": {
   "type": "object",
   "properties": {
    "containerID": {
     "$ref": "#/$defs/__schema2"
    },
    "hostID": {
     "$ref": "#/$defs/__schema2"
    },
    "size": {
     "$ref": "#/$defs/__schema2"
    }
   },
   "required": [
    "containerID",
    "hostID",
    "size"
   ],
   "additionalProperties": {}
  },
  "__schema2": {
   "type": "integer",
   "minimum": 0,
   "maximum": 4294967295,
   "format": "uint32"
  },
  "__schema3": {
   "type": "integer",
   "minimum": 0,
   "maximum": 18446744073709552000,
   "format": "uint64"
  },
  "__schema4": {
   "type": "integer",
   "minimum": -2147483648,
   "maximum": 2147483647,
   "format": "int32"
  },
  "__schema5": {
   "type": "string",
   "pattern": "^[0-9, -]*$"
  },
  "__schema6": {
   "type": "object",
   "properties": {
    "path": {
     "type": "string"
    },
    "args": {
     "$ref": "#/$defs/__schema0"
    },
    "env": {
     "$ref": "#/$defs/__schema0"
    },
    "timeout": {
     "type": "integer",
     "minimum": 1,
     "maximum": 9007199254740991,
     "format": "positive integer"
    }
   },
   "required": [
    "path"
   ],
   "additionalProperties": {}
  },
  "__schema7": {
   "type": "object",
   "propertyNames": {
    "type": "string",
    "minLength": 1
   },
   "additionalProperties": {
    "type": "string"
   }
  },
  "__schema8": {
   "type": "object",
   "properties": {
    "secs": {
     "$ref": "#/$defs/__schema9"
    },
    "nanosecs": {
     "$ref": "#/$defs/__schema2"
    }
   },
   "additionalProperties": {}
  },
  "__schema9": {
   "type": "integer",
   "minimum": -9223372036854776000,
   "maximum": 9223372036854776000,
   "format": "int64"
  },
  "__schema10": {
   "type": "integer",
   "minimum": 0,
   "maximum": 65535,
   "format": "uint16"
  },
  "__schema11": {
   "type": "object",
   "properties": {
    "major": {
     "$ref": "#/$defs/__schema9"
    },
    "minor": {
     "$ref": "#/$defs/__schema9"
    },
    "rate": {
     "$ref": "#/$defs/__schema3"
    }
   },
   "required": [
    "major",
    "minor"
   ],
   "additionalProperties": {}
  },
  "__schema12": {
   "type": "string",
   "enum": [
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY"
   ]
  },
  "__schema13": {
   "type": "string"
  }
 }
};

export const processJsonSchema: JsonSchema = {
 "type": "object",
 "properties": {
  "terminal": {
   "type": "boolean"
  },
  "consoleSize": {
   "type": "object",
   "properties": {
    "height": {
     "$ref": "#/$defs/__schema0"
    },
    "width": {
     "$ref": "#/$defs/__schema0"
    }
   },
   "required": [
    "height",
    "width"
   ],
   "additionalProperties": {}
  },
  "user": {
   "type": "object",
   "properties": {
    "uid": {
     "$ref": "#/$defs/__schema1"
    },
    "gid": {
     "$ref": "#/$defs/__schema1"
    },
    "umask": {
     "$ref": "#/$defs/__schema1"
    },
    "additionalGids": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema1"
     }
    },
    "username": {
     "type": "string"
    }
   },
   "additionalProperties": {}
  },
  "args": {
   "$ref": "#/$defs/__schema2"
  },
  "commandLine": {
   "type": "string"
  },
  "env": {
   "$ref": "#/$defs/__schema2"
  },
  "cwd": {
   "type": "string"
  },
  "capabilities": {
   "type": "object",
   "properties": {
    "bounding": {
     "$ref": "#/$defs/__schema2"
    },
    "effective": {
     "$ref": "#/$defs/__schema2"
    },
    "inheritable": {
     "$ref": "#/$defs/__schema2"
    },
    "permitted": {
     "$ref": "#/$defs/__schema2"
    },
    "ambient": {
     "$ref": "#/$defs/__schema2"
    }
   },
   "additionalProperties": {}
  },
  "rlimits": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "type": {
      "type": "string",
      "pattern": "^RLIMIT_[A-Z]+$"
     },
     "soft": {
      "$ref": "#/$defs/__schema0"
     },
     "hard": {
      "$ref": "#/$defs/__schema0"
     }
    },
    "required": [
     "type",
     "soft",
     "hard"
    ],
    "additionalProperties": {}
   }
  },
  "noNewPrivileges": {
   "type": "boolean"
  },
  "apparmorProfile": {
   "type": "string"
  },
  "oomScoreAdj": {
   "type": "integer"
  },
  "scheduler": {
   "type": "object",
   "properties": {
    "policy": {
     "type": "string",
     "enum": [
      "SCHED_OTHER",
      "SCHED_FIFO",
      "SCHED_RR",
      "SCHED_BATCH",
      "SCHED_ISO",
      "SCHED_IDLE",
      "SCHED_DEADLINE"
     ]
    },
    "nice": {
     "$ref": "#/$defs/__schema3"
    },
    "priority": {
     "$ref": "#/$defs/__schema3"
    },
    "flags": {
     "type": "array",
     "items": {
      "type": "string",
      "enum": [
       "SCHED_FLAG_RESET_ON_FORK",
       "SCHED_FLAG_RECLAIM",
       "SCHED_FLAG_DL_OVERRUN",
       "SCHED_FLAG_KEEP_POLICY",
       "SCHED_FLAG_KEEP_PARAMS",
       "SCHED_FLAG_UTIL_CLAMP_MIN",
       "SCHED_FLAG_UTIL_CLAMP_MAX"
      ]
     }
    },
    "runtime": {
     "$ref": "#/$defs/__schema0"
    },
    "deadline": {
     "$ref": "#/$defs/__schema0"
    },
    "period": {
     "$ref": "#/$defs/__schema0"
    }
   },
   "required": [
    "policy"
   ],
   "additionalProperties": {}
  },
  "selinuxLabel": {
   "type": "string"
  },
  "ioPriority": {
   "type": "object",
   "properties": {
    "class": {
     "type": "string",
     "enum": [
      "IOPRIO_CLASS_RT",
      "IOPRIO_CLASS_BE",
      "IOPRIO_CLASS_IDLE"
     ]
    },
    "priority": {
     "$ref": "#/$defs/__schema3"
    }
   },
   "required": [
    "class"
   ],
   "additionalProperties": {}
  },
  "execCPUAffinity": {
   "type": "object",
   "properties": {
    "initial": {
     "$ref": "#/$defs/__schema4"
    },
    "final": {
     "$ref": "#/$defs/__schema4"
    }
   },
   "additionalProperties": {}
  }
 },
 "required": [
  "cwd"
 ],
 "additionalProperties": {},
 "$defs": {
  "__schema0": {
   "type": "integer",
   "minimum": 0,
   "maximum": 18446744073709552000,
   "format": "uint64"
  },
  "__schema1": {
   "type": "integer",
   "minimum": 0,
   "maximum": 4294967295,
   "format": "uint32"
  },
  "__schema2": {
   "type": "array",
   "items": {
    "type": "string"
   }
  },
  "__schema3": {
   "type": "integer",
   "minimum": -2147483648,
   "maximum": 2147483647,
   "format": "int32"
  },
  "__schema4": {
   "type": "string",
   "pattern": "^[0-9, -]*$"
  }
 }
};

export const stateJsonSchema: JsonSchema = {
 "type": "object",
 "properties": {
  "ociVersion": {
   "type": "string"
  },
  "id": {
   "type": "string"
  },
  "status": {
   "type": "string",
   "enum": [
    "creating",
    "created",
    "running",
    "stopped"
   ]
  },
  "pid": {
   "type": "integer",
   "minimum": 0,
   "maximum": 9007199254740991,
   "format": "non-negative integer"
  },
  "bundle": {
   "type": "string"
  },
  "annotations": {
   "type": "object",
   "propertyNames": {
    "type": "string",
    "minLength": 1
   },
   "additionalProperties": {
    "type": "string"
   }
  }
 },
 "required": [
  "ociVersion",
  "id",
  "status",
  "bundle"
 ],
 "additionalProperties": {}
};

export const featuresJsonSchema: JsonSchema = {
 "type": "object",
 "properties": {
  "ociVersionMin": {
   "type": "string"
  },
  "ociVersionMax": {
   "type": "string"
  },
  "hooks": {
   "$ref": "#/$defs/__schema0"
  },
  "mountOptions": {
   "$ref": "#/$defs/__schema0"
  },
  "annotations": {
   "type": "object",
   "propertyNames": {
    "type": "string",
    "minLength": 1
   },
   "additionalProperties": {
    "type": "string"
   }
  },
  "potentiallyUnsafeConfigAnnotations": {
   "$ref": "#/$defs/__schema0"
  },
  "linux": {
   "type": "object",
   "properties": {
    "namespaces": {
     "type": "array",
     "items": {
      "type": "string",
      "enum": [
       "mount",
       "pid",
       "network",
       "uts",
       "ipc",
       "user",
       "cgroup",
       "time"
      ]
     }
    },
    "capabilities": {
     "type": "array",
     "items": {
      "type": "string",
      "pattern": "^CAP_[A-Z_]+$"
     }
    },
    "cgroup": {
     "type": "object",
     "properties": {
      "v1": {
       "type": "boolean"
      },
      "v2": {
       "type": "boolean"
      },
      "systemd": {
       "type": "boolean"
      },
      "systemdUser": {
       "type": "boolean"
      },
      "rdma": {
       "type": "boolean"
      }
     },
     "additionalProperties": {}
    },
    "seccomp": {
     "type": "object",
     "properties": {
      "enabled": {
       "type": "boolean"
      },
      "actions": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "SCMP_ACT_KILL",
         "SCMP_ACT_KILL_PROCESS",
         "SCMP_ACT_KILL_THREAD",
         "SCMP_ACT_TRAP",
         "SCMP_ACT_ERRNO",
         "SCMP_ACT_TRACE",
         "SCMP_ACT_ALLOW",
         "SCMP_ACT_LOG",
         "SCMP_ACT_NOTIFY"
        ]
       }
      },
      "operators": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "SCMP_CMP_NE",
         "SCMP_CMP_LT",
         "SCMP_CMP_LE",
         "SCMP_CMP_EQ",
         "SCMP_CMP_GE",
         "SCMP_CMP_GT",
         "SCMP_CMP_MASKED_EQ"
        ]
       }
      },
      "archs": {
       "type": "array",
       "items": {
        "type": "string",
        "enum": [
         "SCMP_ARCH_X86",
         "SCMP_ARCH_X86_64",
         "SCMP_ARCH_X32",
         "SCMP_ARCH_ARM",
         "SCMP_ARCH_AARCH64",
         "SCMP_ARCH_LOONGARCH64",
         "SCMP_ARCH_M68K",
         "SCMP_ARCH_MIPS",
         "SCMP_ARCH_MIPS64",
         "SCMP_ARCH_MIPS64N32",
         "SCMP_ARCH_MIPSEL",
         "SCMP_ARCH_MIPSEL64",
         "SCMP_ARCH_MIPSEL64N32",
         "SCMP_ARCH_PPC",
         "SCMP_ARCH_PPC64",
         "SCMP_ARCH_PPC64LE",
         "SCMP_ARCH_S390",
         "SCMP_ARCH_S390X",
         "SCMP_ARCH_SH",
         "SCMP_ARCH_SHEB",
         "SCMP_ARCH_PARISC",
         "SCMP_ARCH_PARISC64",
         "SCMP_ARCH_RISCV64"
        ]
       }
      },
      "knownFlags": {
       "type": "array",
       "items": {
        "$ref": "#/$defs/__schema1"
       }
      },
      "supportedFlags": {
       "type": "array",
       "items": {
        "$ref": "#/$defs/__schema1"
       }
      }
     },
     "additionalProperties": {}
    },
    "apparmor": {
     "$ref": "#/$defs/__schema2"
    },
    "selinux": {
     "$ref": "#/$defs/__schema2"
    },
    "intelRdt": {
     "$ref": "#/$defs/__schema2"
    },
    "mountExtensions": {
     "type": "object",
     "properties": {
      "idmap": {
       "$ref": "#/$defs/__schema2"
      }
     },
     "additionalProperties": {}
    },
    "netDevices": {
     "$ref": "#/$defs/__schema2"
    }
   },
   "additionalProperties": {}
  }
 },
 "required": [
  "ociVersionMin",
  "ociVersionMax"
 ],
 "additionalProperties": {},
 "$defs": {
  "__schema0": {
   "type": "array",
   "items": {
    "type": "string"
   }
  },
  "__schema1": {
   "type": "string",
   "enum": [
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
   ]
  },
  "__schema2": {
   "type": "object",
   "properties": {
    "enabled": {
     "type": "boolean"
    }
   },
   "additionalProperties": {}
  }
 }
};

export const resourcesJsonSchema: JsonSchema = {
 "type": "object",
 "properties": {
  "devices": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "allow": {
      "type": "boolean"
     },
     "type": {
      "type": "string"
     },
     "major": {
      "$ref": "#/$defs/__schema0"
     },
     "minor": {
      "$ref": "#/$defs/__schema0"
     },
     "access": {
      "type": "string"
     }
    },
    "required": [
     "allow"
    ],
    "additionalProperties": {}
   }
  },
  "memory": {
   "type": "object",
   "properties": {
    "limit": {
     "$ref": "#/$defs/__schema0"
    },
    "reservation": {
     "$ref": "#/$defs/__schema0"
    },
    "swap": {
     "$ref": "#/$defs/__schema0"
    },
    "kernel": {
     "$ref": "#/$defs/__schema0"
    },
    "kernelTCP": {
     "$ref": "#/$defs/__schema0"
    },
    "swappiness": {
     "$ref": "#/$defs/__schema1"
    },
    "disableOOMKiller": {
     "type": "boolean"
    },
    "useHierarchy": {
     "type": "boolean"
    },
    "checkBeforeUpdate": {
     "type": "boolean"
    }
   },
   "additionalProperties": {}
  },
  "cpu": {
   "type": "object",
   "properties": {
    "shares": {
     "$ref": "#/$defs/__schema1"
    },
    "quota": {
     "$ref": "#/$defs/__schema0"
    },
    "burst": {
     "$ref": "#/$defs/__schema1"
    },
    "period": {
     "$ref": "#/$defs/__schema1"
    },
    "realtimeRuntime": {
     "$ref": "#/$defs/__schema0"
    },
    "realtimePeriod": {
     "$ref": "#/$defs/__schema1"
    },
    "cpus": {
     "type": "string"
    },
    "mems": {
     "type": "string"
    },
    "idle": {
     "$ref": "#/$defs/__schema0"
    }
   },
   "additionalProperties": {}
  },
  "pids": {
   "type": "object",
   "properties": {
    "limit": {
     "$ref": "#/$defs/__schema0"
    }
   },
   "required": [
    "limit"
   ],
   "additionalProperties": {}
  },
  "blockIO": {
   "type": "object",
   "properties": {
    "weight": {
     "$ref": "#/$defs/__schema2"
    },
    "leafWeight": {
     "$ref": "#/$defs/__schema2"
    },
    "weightDevice": {
     "type": "array",
     "items": {
      "type": "object",
      "properties": {
       "major": {
        "$ref": "#/$defs/__schema0"
       },
       "minor": {
        "$ref": "#/$defs/__schema0"
       },
       "weight": {
        "$ref": "#/$defs/__schema2"
       },
       "leafWeight": {
        "$ref": "#/$defs/__schema2"
       }
      },
      "required": [
       "major",
       "minor"
      ],
      "additionalProperties": {}
     }
    },
    "throttleReadBpsDevice": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema3"
     }
    },
    "throttleWriteBpsDevice": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema3"
     }
    },
    "throttleReadIOPSDevice": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema3"
     }
    },
    "throttleWriteIOPSDevice": {
     "type": "array",
     "items": {
      "$ref": "#/$defs/__schema3"
     }
    }
   },
   "additionalProperties": {}
  },
  "hugepageLimits": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "pageSize": {
      "type": "string",
      "pattern": "^[1-9][0-9]*[KMG]B$"
     },
     "limit": {
      "$ref": "#/$defs/__schema1"
     }
    },
    "required": [
     "pageSize",
     "limit"
    ],
    "additionalProperties": {}
   }
  },
  "network": {
   "type": "object",
   "properties": {
    "classID": {
     "$ref": "#/$defs/__schema4"
    },
    "priorities": {
     "type": "array",
     "items": {
      "type": "object",
      "properties": {
       "name": {
        "type": "string"
       },
       "priority": {
        "$ref": "#/$defs/__schema4"
       }
      },
      "required": [
       "name",
       "priority"
      ],
      "additionalProperties": {}
     }
    }
   },
   "additionalProperties": {}
  },
  "rdma": {
   "type": "object",
   "propertyNames": {
    "type": "string"
   },
   "additionalProperties": {
    "type": "object",
    "properties": {
     "hcaHandles": {
      "$ref": "#/$defs/__schema4"
     },
     "hcaObjects": {
      "$ref": "#/$defs/__schema4"
     }
    },
    "additionalProperties": {}
   }
  },
  "unified": {
   "type": "object",
   "propertyNames": {
    "type": "string",
    "minLength": 1
   },
   "additionalProperties": {
    "type": "string"
   }
  }
 },
 "additionalProperties": {},
 "$defs": {
  "__schema0": {
   "type": "integer",
   "minimum": -9223372036854776000,
   "maximum": 9223372036854776000,
   "format": "int64"
  },
  "__schema1": {
   "type": "integer",
   "minimum": 0,
   "maximum": 18446744073709552000,
   "format": "uint64"
  },
  "__schema2": {
   "type": "integer",
   "minimum": 0,
   "maximum": 65535,
   "format": "uint16"
  },
  "__schema3": {
   "type": "object",
   "properties": {
    "major": {
     "$ref": "#/$defs/__schema0"
    },
    "minor": {
     "$ref": "#/$defs/__schema0"
    },
    "rate": {
     "$ref": "#/$defs/__schema1"
    }
   },
   "required": [
    "major",
    "minor"
   ],
   "additionalProperties": {}
  },
  "__schema4": {
   "type": "integer",
   "minimum": 0,
   "maximum": 4294967295,
   "format": "uint32"
  }
 }
};
